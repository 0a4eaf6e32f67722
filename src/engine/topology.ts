import { csrFromPairs, minusRows, transpose, type Csr } from './csr.ts';

/**
 * The topology snapshot (design section 2): an immutable, compiled copy of the graph. Entities get dense integer
 * indexes 0..size-1; every relation is a pair of CSR adjacencies (forward and reverse) in Int32Arrays, and per-entity
 * attributes are typed arrays indexed the same way. The failure analyses (implied, roots, impact, spofs, ...) are
 * pure functions over it, in the other modules of this folder.
 *
 * The loader (Neo4j → rows) is not here: it produces a TopologyInput, plain rows in the vocabulary of
 * src/graph/model.ts, and calls compileTopology.
 */

export type EntityKind = 'host' | 'resource' | 'service' | 'group';

/** Kind codes in `Topology.kinds`. */
export const KIND = { host: 0, resource: 1, service: 2, group: 3 } as const;
export const KIND_NAMES: readonly EntityKind[] = ['host', 'resource', 'service', 'group'];

export interface EntityInput {
  id: string;
  kind: EntityKind;
  name: string;
  /** Resources: the certname of the host it runs on (the same as a RUNS_ON row). */
  host?: string;
  /** Groups: how many members must be up (default 1). */
  minHealthy?: number;
  /** Services. */
  tier?: number;
  critical?: boolean;
  managed: boolean;
  /** Team ids of its own (OWNED_BY); resources without any inherit their host's. */
  owners: string[];
  /** Alert ids (`<host>/<check>`) that map to this entity. */
  checks?: string[];
  /** Hosts: where it stands, from its facts (docs/facts.md). */
  place?: Place;
}

/** Where a host stands: the `rack`, `az` and `location` facts on its vertex, those it has. */
export interface Place {
  rack?: string;
  az?: string;
  location?: string;
}

export const PLACE_FACTS = ['rack', 'az', 'location'] as const;

export interface TeamInput {
  id: string;
  name: string;
  contacts: string[];
}

export interface TopologyInput {
  entities: EntityInput[];
  /** (a)-[:DEPENDS_ON {kind}]->(b): `from` needs `to`. */
  dependencies: { from: string; to: string; kind: 'hard' | 'soft' }[];
  /** (r:Resource)-[:RUNS_ON]->(h:Host): a hard dependency of the resource on its host. */
  runsOn: { resource: string; host: string }[];
  /** (g:Group)-[:HAS_MEMBER]->(e). */
  members: { group: string; member: string }[];
  teams: TeamInput[];
}

export interface Team {
  readonly id: string;
  readonly name: string;
  readonly contacts: readonly string[];
}

/** The compiled graph. Typed arrays are shared, not copied: treat every field as read-only. */
export class Topology {
  /** Entities by index. */
  readonly ids: readonly string[];
  readonly names: readonly string[];
  /** KIND codes. */
  readonly kinds: Uint8Array;
  /** 1 when some import declared the entity; 0 for entities known only as the endpoint of a relation. */
  readonly managed: Uint8Array;
  readonly critical: Uint8Array;
  /** Service tier, -1 when none. */
  readonly tier: Int32Array;
  /** Groups: minHealthy as declared (default 1); 0 for other kinds. */
  readonly minHealthy: Int32Array;
  /**
   * Groups: how many members must be down for the group to be down (members − effective minHealthy + 1), 0 when
   * it is never down by membership (no members, or minHealthy 0). See docs/engine.md for the clamping of a
   * minHealthy larger than the group.
   */
  readonly downAt: Int32Array;
  /** Resources: index of their host, -1 when none is known. */
  readonly host: Int32Array;
  /** Hard dependencies (DEPENDS_ON hard ∪ RUNS_ON): row v = what v needs. */
  readonly hardDeps: Csr;
  /** Reverse of hardDeps: row v = what needs v. */
  readonly hardDependents: Csr;
  /** Soft dependencies, minus pairs that are also hard (a hard need subsumes a soft one). */
  readonly softDeps: Csr;
  readonly softDependents: Csr;
  /** HAS_MEMBER: row g = members of group g. */
  readonly members: Csr;
  /** Reverse of members: row e = groups e belongs to. */
  readonly memberOf: Csr;
  /** OWNED_BY of its own: row v = team indexes. */
  readonly ownOwners: Csr;
  /** Effective owners: own, else (resources) the host's own. */
  readonly owners: Csr;
  readonly teams: readonly Team[];
  /** Alert id → entity index, from `checks`. */
  readonly checks: ReadonlyMap<string, number>;
  /** Host index → where it stands, for the hosts whose facts say. */
  readonly places: ReadonlyMap<number, Place>;
  /** What compiling noticed and tolerated (a membership row naming a non-group, a check mapped twice...). */
  readonly problems: readonly string[];

  private readonly indexById: ReadonlyMap<string, number>;
  private readonly teamIndexById: ReadonlyMap<string, number>;

  /** @internal use compileTopology */
  constructor(parts: TopologyParts) {
    this.ids = parts.ids;
    this.names = parts.names;
    this.kinds = parts.kinds;
    this.managed = parts.managed;
    this.critical = parts.critical;
    this.tier = parts.tier;
    this.minHealthy = parts.minHealthy;
    this.downAt = parts.downAt;
    this.host = parts.host;
    this.hardDeps = parts.hardDeps;
    this.hardDependents = parts.hardDependents;
    this.softDeps = parts.softDeps;
    this.softDependents = parts.softDependents;
    this.members = parts.members;
    this.memberOf = parts.memberOf;
    this.ownOwners = parts.ownOwners;
    this.owners = parts.owners;
    this.teams = parts.teams;
    this.checks = parts.checks;
    this.places = parts.places;
    this.problems = parts.problems;
    this.indexById = parts.indexById;
    this.teamIndexById = new Map(parts.teams.map((t, i) => [t.id, i]));
  }

  get size(): number {
    return this.ids.length;
  }

  indexOf(id: string): number | undefined {
    return this.indexById.get(id);
  }

  teamIndexOf(id: string): number | undefined {
    return this.teamIndexById.get(id);
  }

  kindOf(v: number): EntityKind {
    return KIND_NAMES[this.kinds[v]!]!;
  }

  isService(v: number): boolean {
    return this.kinds[v] === KIND.service;
  }

  /** A host or resource marked critical: what counts besides services for SPOFs and at risk (design section 5). */
  isCriticalEquipment(v: number): boolean {
    const k = this.kinds[v];
    return this.critical[v] === 1 && (k === KIND.host || k === KIND.resource);
  }

  /** The ids that name entities, as indexes, and the ids that do not. Duplicates collapse, order is kept. */
  resolve(ids: Iterable<string>): { indexes: number[]; unknown: string[] } {
    const indexes: number[] = [];
    const unknown: string[] = [];
    const seen = new Set<number>();
    const missing = new Set<string>();
    for (const id of ids) {
      const v = this.indexById.get(id);
      if (v === undefined) {
        if (!missing.has(id)) unknown.push(id);
        missing.add(id);
      } else if (!seen.has(v)) {
        seen.add(v);
        indexes.push(v);
      }
    }
    return { indexes, unknown };
  }

  idsOf(indexes: Iterable<number>): string[] {
    const out: string[] = [];
    for (const v of indexes) out.push(this.ids[v]!);
    return out;
  }
}

interface TopologyParts {
  ids: string[];
  names: string[];
  kinds: Uint8Array;
  managed: Uint8Array;
  critical: Uint8Array;
  tier: Int32Array;
  minHealthy: Int32Array;
  downAt: Int32Array;
  host: Int32Array;
  hardDeps: Csr;
  hardDependents: Csr;
  softDeps: Csr;
  softDependents: Csr;
  members: Csr;
  memberOf: Csr;
  ownOwners: Csr;
  owners: Csr;
  teams: Team[];
  checks: Map<string, number>;
  places: Map<number, Place>;
  problems: string[];
  indexById: Map<string, number>;
}

/** The kind an entity known only from a relation most likely has, read from its id (src/graph/ids.ts). */
export function kindFromId(id: string): EntityKind {
  if (id.startsWith('service:')) return 'service';
  if (id.startsWith('group:')) return 'group';
  if (id.includes('::')) return 'resource';
  return 'host';
}

/**
 * Rows → Topology. Tolerant, because the graph is what the imports made of real estates:
 * - an entity listed twice is merged (first kind, name and scalars win; owners, checks, critical and managed add up);
 * - an id that only appears as the endpoint of a relation becomes an entity with managed = false, its kind read from
 *   the id;
 * - duplicate relations collapse; self-dependencies are dropped (they change nothing);
 * - a dependency both hard and soft is hard;
 * - an owner team that is not listed becomes a team without contacts.
 */
export function compileTopology(input: TopologyInput): Topology {
  const problems: string[] = [];
  const indexById = new Map<string, number>();
  const ids: string[] = [];
  const names: string[] = [];
  const kindList: number[] = [];
  const managedList: number[] = [];
  const criticalList: number[] = [];
  const tierList: number[] = [];
  const minHealthyList: number[] = [];
  const hostIds: (string | undefined)[] = [];
  const ownerIds: string[][] = [];
  const checkIds: string[][] = [];
  const minHealthySet = new Set<number>();
  const places = new Map<number, Place>();

  const add = (id: string, kind: EntityKind, name: string, managed: boolean): number => {
    const v = ids.length;
    indexById.set(id, v);
    ids.push(id);
    names.push(name);
    kindList.push(KIND[kind]);
    managedList.push(managed ? 1 : 0);
    criticalList.push(0);
    tierList.push(-1);
    minHealthyList.push(kind === 'group' ? 1 : 0);
    hostIds.push(undefined);
    ownerIds.push([]);
    checkIds.push([]);
    return v;
  };

  for (const e of input.entities) {
    let v = indexById.get(e.id);
    if (v === undefined) {
      v = add(e.id, e.kind, e.name || e.id, e.managed);
    } else {
      if (KIND_NAMES[kindList[v]!] !== e.kind) problems.push(`${e.id} is listed as ${KIND_NAMES[kindList[v]!]} and as ${e.kind}: kept ${KIND_NAMES[kindList[v]!]}`);
      if (e.managed) managedList[v] = 1;
    }
    if (e.critical) criticalList[v] = 1;
    if (e.tier !== undefined && tierList[v] === -1) tierList[v] = e.tier;
    if (e.minHealthy !== undefined && kindList[v] === KIND.group && !minHealthySet.has(v)) {
      minHealthyList[v] = e.minHealthy;
      minHealthySet.add(v);
    }
    if (e.host !== undefined && hostIds[v] === undefined) hostIds[v] = e.host;
    for (const o of e.owners) if (!ownerIds[v]!.includes(o)) ownerIds[v]!.push(o);
    for (const c of e.checks ?? []) if (!checkIds[v]!.includes(c)) checkIds[v]!.push(c);
    if (e.place && kindList[v] === KIND.host && !places.has(v)) places.set(v, e.place);
  }

  const ensure = (id: string): number => indexById.get(id) ?? add(id, kindFromId(id), id, false);

  // Hard: DEPENDS_ON hard, RUNS_ON rows, and the `host` attribute of resources.
  const hardFrom: number[] = [];
  const hardTo: number[] = [];
  const softFrom: number[] = [];
  const softTo: number[] = [];
  for (const d of input.dependencies) {
    const a = ensure(d.from);
    const b = ensure(d.to);
    if (a === b) continue;
    if (d.kind === 'hard') {
      hardFrom.push(a);
      hardTo.push(b);
    } else {
      softFrom.push(a);
      softTo.push(b);
    }
  }
  const runsOn: [string, string][] = input.runsOn.map((r) => [r.resource, r.host]);
  for (let v = 0; v < hostIds.length; v++) {
    const h = hostIds[v];
    if (h !== undefined) runsOn.push([ids[v]!, h]);
  }
  const hostOf: number[] = [];
  for (const [resource, hostId] of runsOn) {
    const r = ensure(resource);
    const h = ensure(hostId);
    if (r === h) continue;
    hardFrom.push(r);
    hardTo.push(h);
    if (hostOf[r] === undefined) hostOf[r] = h;
    else if (hostOf[r] !== h) problems.push(`${resource} runs on ${ids[hostOf[r]!]} and ${hostId}: owners are inherited from ${ids[hostOf[r]!]}`);
  }

  const memberFrom: number[] = [];
  const memberTo: number[] = [];
  for (const m of input.members) {
    const g = ensure(m.group);
    const e = ensure(m.member);
    if (kindList[g] !== KIND.group) {
      problems.push(`${m.group} has member ${m.member} but is a ${KIND_NAMES[kindList[g]!]}, not a group: membership ignored`);
      continue;
    }
    if (g === e) {
      problems.push(`${m.group} is listed as a member of itself: ignored`);
      continue;
    }
    memberFrom.push(g);
    memberTo.push(e);
  }

  // Teams: listed ones first, then any owner id nobody listed.
  const teams: Team[] = [];
  const teamIndex = new Map<string, number>();
  for (const t of input.teams) {
    if (teamIndex.has(t.id)) continue;
    teamIndex.set(t.id, teams.length);
    teams.push({ id: t.id, name: t.name, contacts: [...t.contacts] });
  }
  const ownFrom: number[] = [];
  const ownTo: number[] = [];
  for (let v = 0; v < ownerIds.length; v++) {
    for (const o of ownerIds[v]!) {
      let t = teamIndex.get(o);
      if (t === undefined) {
        t = teams.length;
        teamIndex.set(o, t);
        teams.push({ id: o, name: o.startsWith('team:') ? o.slice('team:'.length) : o, contacts: [] });
      }
      ownFrom.push(v);
      ownTo.push(t);
    }
  }

  const n = ids.length;
  const hardDeps = csrFromPairs(n, hardFrom, hardTo);
  const softDeps = minusRows(n, csrFromPairs(n, softFrom, softTo), hardDeps);
  const members = csrFromPairs(n, memberFrom, memberTo);
  const ownOwners = csrFromPairs(n, ownFrom, ownTo);

  const host = new Int32Array(n).fill(-1);
  for (let v = 0; v < n; v++) if (hostOf[v] !== undefined) host[v] = hostOf[v]!;

  // Ownership is inherited host → resource unless the resource has owners of its own.
  const effFrom: number[] = [];
  const effTo: number[] = [];
  for (let v = 0; v < n; v++) {
    let source = v;
    if (ownOwners.offsets[v + 1] === ownOwners.offsets[v] && host[v]! >= 0) source = host[v]!;
    for (let i = ownOwners.offsets[source]!; i < ownOwners.offsets[source + 1]!; i++) {
      effFrom.push(v);
      effTo.push(ownOwners.targets[i]!);
    }
  }

  const minHealthy = Int32Array.from(minHealthyList);
  const downAt = new Int32Array(n);
  for (let g = 0; g < n; g++) {
    if (kindList[g] !== KIND.group) continue;
    const size = members.offsets[g + 1]! - members.offsets[g]!;
    const need = Math.min(Math.max(minHealthy[g]!, 0), size);
    downAt[g] = need === 0 ? 0 : size - need + 1;
    if (minHealthy[g]! > size && size > 0) problems.push(`${ids[g]} needs ${minHealthy[g]} healthy members but has ${size}: treated as needing all of them`);
  }

  const checks = new Map<string, number>();
  for (let v = 0; v < n; v++) {
    for (const c of checkIds[v]!) {
      const before = checks.get(c);
      if (before === undefined) checks.set(c, v);
      else if (before !== v) problems.push(`check ${c} maps to ${ids[before]} and ${ids[v]}: kept ${ids[before]}`);
    }
  }

  return new Topology({
    ids,
    names,
    kinds: Uint8Array.from(kindList),
    managed: Uint8Array.from(managedList),
    critical: Uint8Array.from(criticalList),
    tier: Int32Array.from(tierList),
    minHealthy,
    downAt,
    host,
    hardDeps,
    hardDependents: transpose(n, hardDeps),
    softDeps,
    softDependents: transpose(n, softDeps),
    members,
    memberOf: transpose(n, members),
    ownOwners,
    owners: csrFromPairs(n, effFrom, effTo),
    teams,
    checks,
    places,
    problems,
    indexById,
  });
}
