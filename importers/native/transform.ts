import { groupId, parseRef, resolveEntityRef, serviceId, teamId } from '../../src/graph/ids.ts';
import type { HostGraph, SharedGraph } from '../../src/graph/model.ts';
import { applyDeclarations, emptyDeclarations } from '../declarations.ts';
import type { NativeTopology } from './schema.ts';

export interface Problem {
  path: string;
  message: string;
}

export interface NativeGraph {
  hosts: HostGraph[];
  shared: SharedGraph;
  warnings: Problem[];
}

/** Pure: validated native topology → graph rows. Unresolvable references become warnings, never guesses. */
export function transformNative(topology: NativeTopology): NativeGraph {
  const warnings: Problem[] = [];
  const hosts = Object.entries(topology.hosts).map(([certname, spec]) => hostGraph(certname, spec, warnings));

  // Outside a host, a reference must be a whole entity id (a bare `Service[x]` would have no host).
  const global = (path: string, ref: string): string | undefined => {
    const id = parseRef(ref) ? undefined : resolveEntityRef(ref, '');
    if (id === undefined) warnings.push({ path, message: `"${ref}" is not an entity id (write <certname>::Type[title], service:x, group:x or a certname)` });
    return id;
  };

  const shared: SharedGraph = { teams: [], services: [], groups: [], dependencies: [], memberships: [] };
  for (const [name, team] of Object.entries(topology.teams)) {
    shared.teams.push({ id: teamId(name), name, contacts: team?.contacts ?? [] });
  }
  for (const [name, service] of Object.entries(topology.services)) {
    const id = serviceId(name);
    shared.services.push({
      id,
      name,
      ...(service?.tier !== undefined ? { tier: service.tier } : {}),
      ...(service?.owner ? { owner: teamId(service.owner) } : {}),
      ...(service?.critical !== undefined ? { critical: service.critical } : {}),
    });
    (service?.dependsOn ?? []).forEach((entry, i) => {
      const { on, kind } = typeof entry === 'string' ? { on: entry, kind: 'hard' as const } : entry;
      const to = global(`services.${name}.dependsOn[${i}]`, on);
      if (to) shared.dependencies.push({ from: id, to, kind, origin: 'native' });
    });
  }
  for (const [name, group] of Object.entries(topology.groups)) {
    shared.groups.push({ id: groupId(name), name, minHealthy: group.minHealthy, kind: 'native' });
    group.members.forEach((member, i) => {
      const id = global(`groups.${name}.members[${i}]`, member);
      if (id) shared.memberships.push({ group: groupId(name), member: id });
    });
  }
  topology.dependencies.forEach((dep, i) => {
    const from = global(`dependencies[${i}].from`, dep.from);
    const to = global(`dependencies[${i}].on`, dep.on);
    if (from && to) shared.dependencies.push({ from, to, kind: dep.kind, origin: 'native' });
  });
  return { hosts, shared, warnings };
}

function hostGraph(certname: string, spec: NativeTopology['hosts'][string], warnings: Problem[]): HostGraph {
  const graph: HostGraph = {
    certname,
    facts: Object.fromEntries(Object.entries(spec?.facts ?? {}).filter(([, v]) => v !== undefined)),
    ...(spec?.critical !== undefined ? { critical: spec.critical } : {}),
    resources: [],
    dependencies: [],
    memberships: [],
    teams: [],
    services: [],
    groups: [],
  };
  const warn = (where: string, message: string) => warnings.push({ path: `hosts.${certname}.${where}`, message });

  for (const [text, resource] of Object.entries(spec?.resources ?? {})) {
    const ref = parseRef(text);
    if (!ref) {
      warn(`resources.${text}`, 'a resource is written Type[title], e.g. Service[mysqld]');
      continue;
    }
    const id = `${certname}::${ref.type}[${ref.title}]`;
    graph.resources.push({ id, type: ref.type, title: ref.title, ...(resource.owner ? { owner: teamId(resource.owner) } : {}), ...(resource.critical !== undefined ? { critical: resource.critical } : {}) });
    resource.require.forEach((target, i) => {
      const to = resolveEntityRef(target, certname);
      if (to) graph.dependencies.push({ from: id, to, kind: 'hard', origin: 'require' });
      else warn(`resources.${text}.require[${i}]`, `cannot resolve "${target}" to an entity`);
    });
  }

  const d = emptyDeclarations();
  if (spec?.owner) d.owners.push({ team: spec.owner, contacts: [] });
  (spec?.depends ?? []).forEach((dep, i) => d.depends.push({ name: String(i), on: dep.on, kind: dep.kind, ...(dep.from ? { from: dep.from } : {}) }));
  for (const [capability, resource] of Object.entries(spec?.provides ?? {})) d.provides.push({ capability, ...(resource ? { resource } : {}) });
  for (const [capability, c] of Object.entries(spec?.consumes ?? {})) d.consumes.push({ capability, kind: c?.kind ?? 'hard', ...(c?.from ? { from: c.from } : {}) });
  for (const [group, m] of Object.entries(spec?.member ?? {})) d.members.push({ group, ...(m?.resource ? { resource: m.resource } : {}), ...(m?.minHealthy ? { minHealthy: m.minHealthy } : {}) });
  for (const [check, resource] of Object.entries(spec?.checks ?? {})) d.checks.push({ check, ...(resource ? { resource } : {}) });
  for (const [name, s] of Object.entries(spec?.services ?? {})) {
    d.services.push({ name, ...(s?.tier !== undefined ? { tier: s.tier } : {}), ...(s?.owner ? { owner: s.owner } : {}), ...(s?.resource ? { resource: s.resource } : {}), ...(s?.minHealthy ? { minHealthy: s.minHealthy } : {}) });
  }
  applyDeclarations(graph, d, warn);
  return graph;
}
