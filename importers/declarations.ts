import { capabilityGroupId, groupId, resolveEntityRef, serviceId, teamId } from '../src/graph/ids.ts';
import type { DependencyKind, HostGraph } from '../src/graph/model.ts';

/**
 * The vocabulary of the faultline Puppet module (design section 4), shared by the Puppet importer (which reads
 * `Faultline::*` resources from catalogs) and the native importer (which reads the same words from YAML).
 * References (`from`, `on`, `resource`) are written as on the declaring host: `Service[x]` is local,
 * `db1.example.com::Service[x]`, `service:x` and `group:x` are any entity.
 */
export interface Declarations {
  depends: { name: string; from?: string; on: string; kind: DependencyKind }[];
  provides: { capability: string; resource?: string }[];
  consumes: { capability: string; from?: string; kind: DependencyKind }[];
  members: { group: string; resource?: string; minHealthy?: number }[];
  owners: { team: string; contacts: string[]; resource?: string }[];
  checks: { check: string; resource?: string }[];
  services: { name: string; tier?: number; owner?: string; resource?: string; minHealthy?: number; critical?: boolean }[];
}

export const emptyDeclarations = (): Declarations => ({
  depends: [],
  provides: [],
  consumes: [],
  members: [],
  owners: [],
  checks: [],
  services: [],
});

/**
 * Turns the declarations of host `graph.certname` into graph rows on `graph`. A reference that cannot be
 * resolved is reported through `warn` (with `where`, the declaration it came from) and skipped.
 */
export function applyDeclarations(graph: HostGraph, d: Declarations, warn: (where: string, message: string) => void): void {
  const host = graph.certname;
  const resolve = (where: string, ref: string | undefined): string | undefined => {
    if (ref === undefined) return host;
    const id = resolveEntityRef(ref, host);
    if (id === undefined) warn(where, `cannot resolve "${ref}" to an entity`);
    return id;
  };
  const ensureResource = (id: string) => {
    // A local reference to a resource the catalog does not contain still names a vertex of this host.
    if (id.startsWith(`${host}::`) && !graph.resources.some((r) => r.id === id)) {
      const ref = id.slice(host.length + 2);
      const open = ref.indexOf('[');
      graph.resources.push({ id, type: ref.slice(0, open), title: ref.slice(open + 1, -1) });
    }
  };
  const local = (where: string, ref: string | undefined) => {
    const id = resolve(where, ref);
    if (id) ensureResource(id);
    return id;
  };

  for (const dep of d.depends) {
    const from = local(`depends[${dep.name}].from`, dep.from);
    const on = resolve(`depends[${dep.name}].on`, dep.on);
    if (from && on) graph.dependencies.push({ from, to: on, kind: dep.kind, origin: 'faultline::depends' });
  }
  for (const p of d.provides) {
    const provider = local(`provides[${p.capability}]`, p.resource);
    const group = capabilityGroupId(p.capability);
    if (!provider) continue;
    graph.groups.push({ id: group, name: `capability:${p.capability}`, kind: 'capability' });
    graph.memberships.push({ group, member: provider });
  }
  for (const c of d.consumes) {
    const from = local(`consumes[${c.capability}].from`, c.from);
    if (from) graph.dependencies.push({ from, to: capabilityGroupId(c.capability), kind: c.kind, origin: 'faultline::consumes' });
  }
  for (const m of d.members) {
    const member = local(`member[${m.group}]`, m.resource);
    if (!member) continue;
    graph.groups.push({ id: groupId(m.group), name: m.group, kind: 'member', ...(m.minHealthy ? { minHealthy: m.minHealthy } : {}) });
    graph.memberships.push({ group: groupId(m.group), member });
  }
  for (const o of d.owners) {
    const team = teamId(o.team);
    graph.teams.push({ id: team, name: team.slice('team:'.length), contacts: o.contacts });
    if (o.resource === undefined) {
      graph.owner = team;
      continue;
    }
    const owned = local(`owner[${o.team}].resource`, o.resource);
    const row = graph.resources.find((r) => r.id === owned);
    if (row) row.owner = team;
  }
  for (const c of d.checks) {
    const target = local(`check[${c.check}]`, c.resource);
    const alertId = `${host}/${c.check}`;
    if (target === host) graph.checks = [...(graph.checks ?? []), alertId];
    const row = graph.resources.find((r) => r.id === target);
    if (row) row.checks = [...(row.checks ?? []), alertId];
  }
  for (const s of d.services) {
    // A service runs on the hosts (or resources) that declare it; they form the group `group:service:<name>`,
    // so a service declared on two hosts survives either one failing.
    const member = local(`service[${s.name}].resource`, s.resource);
    if (!member) continue;
    const id = serviceId(s.name);
    const group = groupId(`service:${s.name}`);
    graph.services.push({
      id,
      name: s.name,
      ...(s.tier !== undefined ? { tier: s.tier } : {}),
      ...(s.owner ? { owner: teamId(s.owner) } : {}),
      ...(s.critical !== undefined ? { critical: s.critical } : {}),
    });
    graph.groups.push({ id: group, name: `service:${s.name}`, kind: 'service', ...(s.minHealthy ? { minHealthy: s.minHealthy } : {}) });
    graph.memberships.push({ group, member });
    graph.dependencies.push({ from: id, to: group, kind: 'hard', origin: 'faultline::service', shared: true });
  }
}
