import { z } from 'zod';
import { normaliseType, refText, resourceId, type ResourceRef } from '../../src/graph/ids.ts';
import type { DependencyRow, HostGraph } from '../../src/graph/model.ts';
import { mergeDependencies } from '../../src/graph/load.ts';
import { applyDeclarations, emptyDeclarations, type Declarations } from '../declarations.ts';
import type { Catalog, CatalogResource } from './envelope.ts';

/**
 * Pure: one catalog → one host's graph rows. Resources become entities (exported ones belong to the host that
 * collects them and are skipped); the relationship metaparameters and PuppetDB's relationship edges become
 * hard dependencies; containment is structure and is ignored; `Faultline::*` resources are the faultline
 * module's declarations and become cross-node links, groups, owners, checks and services.
 */

/** `require`/`subscribe`: this resource depends on the target; `before`/`notify`: the target depends on it. */
const METAPARAMS = { require: 'forward', subscribe: 'forward', before: 'reverse', notify: 'reverse' } as const;
/** PuppetDB edges point from the resource that must come first to the one that needs it. */
const EDGE_RELATIONSHIPS = new Set(['before', 'notifies', 'required-by', 'subscription-of']);

export type Warn = (path: string, message: string) => void;

export function transformCatalog(catalog: Catalog, warn: Warn): HostGraph {
  const host = catalog.certname;
  const index = new ResourceIndex();
  const declared: { resource: CatalogResource; at: string }[] = [];
  const applied: { resource: CatalogResource; ref: ResourceRef; at: string }[] = [];

  catalog.resources.forEach((resource, i) => {
    const at = `${catalog.at}.resources[${i}]`;
    const type = normaliseType(resource.type);
    if (type.startsWith('Faultline::')) {
      declared.push({ resource, at });
      return;
    }
    const ref = { type, title: resource.title };
    if (resource.exported) {
      index.addExported(ref);
      return;
    }
    index.add(ref, resource.parameters);
    applied.push({ resource, ref, at });
  });

  const graph: HostGraph = {
    certname: host,
    facts: {
      ...(catalog.environment ? { environment: catalog.environment } : {}),
      classes: classesOf(applied.map((a) => a.ref)),
    },
    resources: applied.map(({ ref }) => ({ id: resourceId(host, ref), type: ref.type, title: ref.title })),
    dependencies: [],
    memberships: [],
    teams: [],
    services: [],
    groups: [],
  };

  // A relationship to a resource the catalog does not have would fail on the agent; it says nothing about
  // this host's dependencies, so it is reported and left out rather than invented.
  const resolve = (value: unknown, at: string): ResourceRef | undefined => {
    if (typeof value !== 'string') {
      warn(at, `a relationship target must be a Type[title] reference, got ${JSON.stringify(value)}`);
      return undefined;
    }
    const ref = index.parse(value);
    if (!ref) {
      warn(at, `"${value}" is not a Type[title] reference`);
      return undefined;
    }
    const found = index.lookup(ref);
    if (!found && !index.isExported(ref)) warn(at, `${refText(ref)} is not in this catalog`);
    return found;
  };
  const depend = (from: ResourceRef, to: ResourceRef, origin: string) => {
    if (from.type.startsWith('Faultline::') || to.type.startsWith('Faultline::')) return;
    graph.dependencies.push({ from: resourceId(host, from), to: resourceId(host, to), kind: 'hard', origin } satisfies DependencyRow);
  };

  for (const { resource, ref, at } of applied) {
    for (const [param, direction] of Object.entries(METAPARAMS)) {
      const value = resource.parameters[param];
      if (value === undefined || value === null) continue;
      const targets = Array.isArray(value) ? value.flat(Infinity) : [value];
      targets.forEach((target, j) => {
        const other = resolve(target, `${at}.parameters.${param}${Array.isArray(value) ? `[${j}]` : ''}`);
        if (!other) return;
        if (direction === 'forward') depend(ref, other, param);
        else depend(other, ref, param);
      });
    }
  }
  catalog.edges.forEach((edge, i) => {
    if (!edge.relationship || !EDGE_RELATIONSHIPS.has(edge.relationship)) return; // containment: structure only
    const source = index.lookup({ type: normaliseType(edge.source.type), title: edge.source.title });
    const target = index.lookup({ type: normaliseType(edge.target.type), title: edge.target.title });
    if (!source || !target) {
      const missing = [edge.source, edge.target].some((end) => !index.isExported({ type: normaliseType(end.type), title: end.title }));
      if (missing) warn(`${catalog.at}.edges[${i}]`, `${edge.relationship} edge to a resource this catalog does not have`);
      return;
    }
    depend(target, source, edge.relationship);
  });

  applyDeclarations(graph, declarationsOf(declared, index, warn), (where, message) => warn(`${catalog.at} ${where}`, message));
  // A parameter and PuppetDB's edge often say the same thing twice; one relation per pair.
  graph.dependencies = mergeDependencies(graph.dependencies);
  return graph;
}

/** Resources of one catalog by reference, alias and namevar, compared as Puppet does. */
class ResourceIndex {
  private readonly byKey = new Map<string, ResourceRef>();
  private readonly aliases = new Map<string, ResourceRef>();
  /** Exported resources are applied by the host that collects them; relations to them are not this host's. */
  private readonly exported = new Set<string>();

  addExported(ref: ResourceRef): void {
    this.exported.add(key(ref));
  }

  isExported(ref: ResourceRef): boolean {
    return this.exported.has(key(ref));
  }

  add(ref: ResourceRef, parameters: Record<string, unknown>): void {
    this.byKey.set(key(ref), ref);
    const names = [parameters.alias, parameters.name, parameters.path].flat().filter((n): n is string => typeof n === 'string');
    for (const name of names) {
      if (name !== ref.title) this.aliases.set(key({ type: ref.type, title: name }), ref);
    }
  }

  /** The catalog's resource for a reference (by title, then alias or namevar), in the catalog's spelling. */
  lookup(ref: ResourceRef): ResourceRef | undefined {
    return this.byKey.get(key(ref)) ?? this.aliases.get(key(ref));
  }

  /** A `Type[title]` string → a reference (not necessarily to a resource the catalog has). */
  parse(text: string): ResourceRef | undefined {
    const open = text.indexOf('[');
    // Titles may contain brackets (`Augeas[remove [files]]`): split at the first `[`, drop only the last `]`.
    if (open <= 0 || !text.trimEnd().endsWith(']')) return undefined;
    const type = text.slice(0, open).trim();
    if (!/^[A-Za-z][\w]*(::[A-Za-z][\w]*)*$/.test(type)) return undefined;
    let title = text.trimEnd().slice(open + 1, -1);
    if (/^'.*'$|^".*"$/s.test(title)) title = title.slice(1, -1);
    return { type: normaliseType(type), title };
  }
}

/** Types compare case-insensitively (they are normalised already); so do Class titles (`Class[Apache::Mod]`). */
function key(ref: ResourceRef): string {
  const type = ref.type.toLowerCase();
  return type === 'class' ? `class[${ref.title.toLowerCase()}]` : `${type}[${ref.title}]`;
}

function classesOf(refs: ResourceRef[]): string[] {
  return refs
    .filter((r) => r.type === 'Class' && !['main', 'settings'].includes(r.title.toLowerCase()))
    .map((r) => r.title.toLowerCase())
    .sort();
}

const kind = z.enum(['hard', 'soft']).default('hard');
const optionalRef = z.string().min(1).nullish().transform((v) => v ?? undefined);
const positive = z.coerce.number().int().positive().nullish().transform((v) => v ?? undefined);
const DECLARATION_PARAMS = {
  'Faultline::Depends': z.looseObject({ from: optionalRef, on: z.string().min(1), kind }),
  'Faultline::Provides': z.looseObject({ resource: optionalRef }),
  'Faultline::Consumes': z.looseObject({ from: optionalRef, kind }),
  'Faultline::Member': z.looseObject({ resource: optionalRef, min_healthy: positive }),
  'Faultline::Owner': z.looseObject({ contacts: z.union([z.string(), z.array(z.string())]).nullish().transform((c) => (c == null ? [] : [c].flat())), resource: optionalRef }),
  'Faultline::Check': z.looseObject({ resource: optionalRef }),
  'Faultline::Service': z.looseObject({
    tier: z.coerce.number().int().min(0).nullish().transform((v) => v ?? undefined),
    owner: optionalRef,
    resource: optionalRef,
    min_healthy: positive,
    critical: z.boolean().nullish().transform((v) => v ?? undefined),
  }),
} as const;

/** `Faultline::*` resources → the module's declarations; local references are put in the catalog's spelling. */
function declarationsOf(declared: { resource: CatalogResource; at: string }[], index: ResourceIndex, warn: Warn): Declarations {
  const d = emptyDeclarations();
  const local = (ref: string | undefined) => {
    if (ref === undefined || ref.includes('::') && ref.slice(0, ref.indexOf('::')).includes('.')) return ref;
    const parsed = index.parse(ref);
    const found = parsed && index.lookup(parsed);
    return found ? refText(found) : ref;
  };
  for (const { resource, at } of declared) {
    const type = normaliseType(resource.type) as keyof typeof DECLARATION_PARAMS;
    const schema = DECLARATION_PARAMS[type];
    if (!schema) {
      warn(at, `unknown faultline declaration ${resource.type} (expected one of ${Object.keys(DECLARATION_PARAMS).join(', ')})`);
      continue;
    }
    const parsed = schema.safeParse(resource.parameters);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      warn(`${at}.parameters.${issue.path.join('.')}`, `${type}[${resource.title}]: ${issue.message}`);
      continue;
    }
    const p = parsed.data as Record<string, unknown>;
    const name = resource.title;
    const str = (k: string) => local(p[k] as string | undefined);
    const opt = <K extends string, V>(k: K, v: V | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));
    switch (type) {
      case 'Faultline::Depends':
        d.depends.push({ name, on: p.on as string, kind: p.kind as 'hard' | 'soft', ...opt('from', str('from')) });
        break;
      case 'Faultline::Provides':
        d.provides.push({ capability: name, ...opt('resource', str('resource')) });
        break;
      case 'Faultline::Consumes':
        d.consumes.push({ capability: name, kind: p.kind as 'hard' | 'soft', ...opt('from', str('from')) });
        break;
      case 'Faultline::Member':
        d.members.push({ group: name, ...opt('resource', str('resource')), ...opt('minHealthy', p.min_healthy as number | undefined) });
        break;
      case 'Faultline::Owner':
        d.owners.push({ team: name, contacts: p.contacts as string[], ...opt('resource', str('resource')) });
        break;
      case 'Faultline::Check':
        d.checks.push({ check: name, ...opt('resource', str('resource')) });
        break;
      case 'Faultline::Service':
        d.services.push({
          name,
          ...opt('tier', p.tier as number | undefined),
          ...opt('owner', p.owner as string | undefined),
          ...opt('resource', str('resource')),
          ...opt('minHealthy', p.min_healthy as number | undefined),
          ...opt('critical', p.critical as boolean | undefined),
        });
        break;
    }
  }
  return d;
}
