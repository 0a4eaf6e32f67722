import fc from 'fast-check';
import type { EntityKind, TopologyInput } from '../../src/engine/index.ts';

/**
 * Random estates for the property tests, and a reference implementation of design section 5 that reads the input
 * rows directly (no CSR, no worklist, no components): a fixpoint iterated until nothing changes.
 */
export interface RandomEstate {
  input: TopologyInput;
  ids: string[];
  /** Indexes into ids. */
  failing: number[];
  seeds: number[];
}

const TEAMS = ['team:a', 'team:b', 'team:c'];

/**
 * maxEntities: size; groups: false for estates without groups; dense: small and crowded (many edges, memberships
 * and failures per entity), where groups inside cycles, the corner cases of the root analysis, are common;
 * groupCycles: dense, and every member needs its group (redundant peers that all need the pool they form).
 */
export function estateArbitrary(options: { maxEntities?: number; groups?: boolean; dense?: boolean; groupCycles?: boolean } = {}): fc.Arbitrary<RandomEstate> {
  const maxEntities = options.maxEntities ?? (options.dense || options.groupCycles ? 7 : 14);
  const withGroups = options.groups ?? true;
  const dense = options.dense || options.groupCycles;
  const per = dense ? 4 : 3;
  return fc.integer({ min: 1, max: maxEntities }).chain((n) => {
    const node = fc.nat(n - 1);
    const kind = withGroups
      ? fc.constantFrom<EntityKind>('host', 'resource', 'service', 'group', 'group')
      : fc.constantFrom<EntityKind>('host', 'resource', 'resource', 'service');
    return fc
      .record({
        kinds: fc.array(kind, { minLength: n, maxLength: n }),
        critical: fc.array(fc.boolean(), { minLength: n, maxLength: n }),
        minHealthy: fc.array(fc.integer({ min: 0, max: options.groupCycles ? 2 : 4 }), { minLength: n, maxLength: n }),
        owners: fc.array(fc.subarray(TEAMS), { minLength: n, maxLength: n }),
        dependencies: fc.array(fc.record({ from: node, to: node, hard: fc.boolean() }), { maxLength: per * n }),
        runsOn: fc.array(fc.tuple(node, node), { maxLength: n }),
        members: fc.array(fc.tuple(node, node), { maxLength: per * n }),
        failing: fc.array(node, { maxLength: dense ? 2 * n : n }),
        // Dense: members that also need their group (a group inside a cycle), one flag per membership row.
        needsGroup: fc.array(fc.boolean(), { minLength: per * n, maxLength: per * n }),
        seeds: fc.array(node, { maxLength: 4 }),
      })
      .map((r) => {
        const ids = r.kinds.map((k, i) => (k === 'service' ? `service:s${i}` : k === 'group' ? `group:g${i}` : k === 'resource' ? `h${i}::R[x]` : `h${i}`));
        const input: TopologyInput = {
          entities: ids.map((id, i) => ({
            id,
            kind: r.kinds[i]!,
            name: id,
            managed: true,
            critical: r.critical[i]!,
            owners: r.owners[i]!,
            ...(r.kinds[i] === 'group' ? { minHealthy: r.minHealthy[i]! } : {}),
          })),
          dependencies: [
            ...r.dependencies.map((d) => ({ from: ids[d.from]!, to: ids[d.to]!, kind: d.hard ? ('hard' as const) : ('soft' as const) })),
            ...(dense ? r.members.filter((_, i) => options.groupCycles || r.needsGroup[i]).map(([g, m]) => ({ from: ids[m]!, to: ids[g]!, kind: 'hard' as const })) : []),
          ],
          // At most one host per resource, resources on hosts only: what imports produce.
          runsOn: r.runsOn
            .filter(([a, b], i, all) => r.kinds[a] === 'resource' && r.kinds[b] === 'host' && all.findIndex(([c]) => c === a) === i)
            .map(([a, b]) => ({ resource: ids[a]!, host: ids[b]! })),
          members: r.members.filter(([g, m]) => r.kinds[g] === 'group' && g !== m).map(([g, m]) => ({ group: ids[g]!, member: ids[m]! })),
          teams: [],
        };
        return { input, ids, failing: r.failing, seeds: r.seeds };
      });
  });
}

/** The reference: design section 5 read literally, with the documented decisions (empty groups, clamping). */
export class Reference {
  readonly hard = new Map<string, Set<string>>();
  readonly soft = new Map<string, Set<string>>();
  readonly members = new Map<string, Set<string>>();
  readonly minHealthy = new Map<string, number>();
  readonly kind = new Map<string, EntityKind>();
  readonly critical = new Set<string>();
  readonly owners = new Map<string, Set<string>>();
  readonly ids: string[];

  constructor(input: TopologyInput) {
    const add = (map: Map<string, Set<string>>, a: string, b: string) => {
      if (!map.has(a)) map.set(a, new Set());
      map.get(a)!.add(b);
    };
    for (const e of input.entities) {
      this.kind.set(e.id, e.kind);
      if (e.critical) this.critical.add(e.id);
      if (e.kind === 'group') this.minHealthy.set(e.id, e.minHealthy ?? 1);
      this.owners.set(e.id, new Set(e.owners));
    }
    for (const d of input.dependencies) if (d.from !== d.to) add(d.kind === 'hard' ? this.hard : this.soft, d.from, d.to);
    const hostOf = new Map<string, string>();
    for (const r of input.runsOn) {
      add(this.hard, r.resource, r.host);
      if (!hostOf.has(r.resource)) hostOf.set(r.resource, r.host);
    }
    for (const m of input.members) add(this.members, m.group, m.member);
    for (const [r, h] of hostOf) if (this.owners.get(r)!.size === 0) this.owners.set(r, new Set(this.owners.get(h)));
    this.ids = input.entities.map((e) => e.id);
  }

  implied(seeds: Iterable<string>): Set<string> {
    const down = new Set(seeds);
    for (let changed = true; changed; ) {
      changed = false;
      for (const e of this.ids) {
        if (down.has(e)) continue;
        let isDown = [...(this.hard.get(e) ?? [])].some((d) => down.has(d));
        const members = this.members.get(e);
        if (!isDown && this.kind.get(e) === 'group' && members && members.size > 0) {
          const need = Math.min(Math.max(this.minHealthy.get(e)!, 0), members.size);
          const up = [...members].filter((m) => !down.has(m)).length;
          isDown = up < need;
        }
        if (isDown) {
          down.add(e);
          changed = true;
        }
      }
    }
    return down;
  }

  degraded(down: Set<string>): Set<string> {
    return new Set(this.ids.filter((e) => !down.has(e) && [...(this.soft.get(e) ?? [])].some((d) => down.has(d) && !(this.hard.get(e)?.has(d) ?? false))));
  }

  isCriticalEquipment(e: string): boolean {
    return this.critical.has(e) && (this.kind.get(e) === 'host' || this.kind.get(e) === 'resource');
  }

  ownersOf(entities: Iterable<string>): Set<string> {
    const out = new Set<string>();
    for (const e of entities) for (const t of this.owners.get(e) ?? []) out.add(t);
    return out;
  }

  /** Strongly connected components of the hard graph (no groups), by mutual reachability. */
  hardComponents(): string[][] {
    const reach = new Map(this.ids.map((e) => [e, this.reachable(e)]));
    const done = new Set<string>();
    const out: string[][] = [];
    for (const e of this.ids) {
      if (done.has(e)) continue;
      const comp = this.ids.filter((f) => reach.get(e)!.has(f) && reach.get(f)!.has(e));
      comp.forEach((f) => done.add(f));
      out.push(comp);
    }
    return out;
  }

  private reachable(e: string): Set<string> {
    const seen = new Set([e]);
    const stack = [e];
    while (stack.length > 0) for (const d of this.hard.get(stack.pop()!) ?? []) if (!seen.has(d)) (seen.add(d), stack.push(d));
    return seen;
  }
}

export const numRuns = (runs: number) => ({
  numRuns: Number(process.env.FC_RUNS ?? runs),
  ...(process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {}),
});

/**
 * Pools: hosts in a few redundancy groups, hosts needing groups (their own or others'), a few host → host needs.
 * Nearly every cycle runs through a group, and failures inside one cycle are often independent or explain one
 * another only together: the refinement of root units inside a component (src/engine/roots.ts, refineUnit).
 */
export function poolsArbitrary(): fc.Arbitrary<RandomEstate> {
  return fc.record({ hosts: fc.integer({ min: 2, max: 8 }), groups: fc.integer({ min: 1, max: 4 }) }).chain(({ hosts, groups }) => {
    const host = fc.nat(hosts - 1);
    const group = fc.nat(groups - 1);
    return fc
      .record({
        pools: fc.array(fc.record({ members: fc.uniqueArray(host, { minLength: 1, maxLength: 4 }), minHealthy: fc.integer({ min: 1, max: 3 }) }), { minLength: groups, maxLength: groups }),
        needsGroup: fc.array(fc.tuple(host, group), { maxLength: 2 * hosts }),
        needsHost: fc.array(fc.tuple(host, host), { maxLength: Math.floor(hosts / 2) }),
        failing: fc.uniqueArray(host, { minLength: 1, maxLength: hosts }),
        services: fc.array(group, { maxLength: 2 }),
      })
      .map((r) => {
        const hostIds = Array.from({ length: hosts }, (_, i) => `h${i}`);
        const groupIds = Array.from({ length: groups }, (_, i) => `group:p${i}`);
        const serviceIds = r.services.map((_, i) => `service:s${i}`);
        const input: TopologyInput = {
          entities: [
            ...hostIds.map((id) => ({ id, kind: 'host' as const, name: id, managed: true, owners: ['team:a'] })),
            ...groupIds.map((id, i) => ({ id, kind: 'group' as const, name: id, managed: true, owners: [], minHealthy: r.pools[i]!.minHealthy })),
            ...serviceIds.map((id) => ({ id, kind: 'service' as const, name: id, managed: true, owners: ['team:b'] })),
          ],
          dependencies: [
            ...r.needsGroup.map(([h, g]) => ({ from: hostIds[h]!, to: groupIds[g]!, kind: 'hard' as const })),
            ...r.needsHost.map(([a, b]) => ({ from: hostIds[a]!, to: hostIds[b]!, kind: 'hard' as const })),
            ...r.services.map((g, i) => ({ from: serviceIds[i]!, to: groupIds[g]!, kind: 'hard' as const })),
          ],
          runsOn: [],
          members: r.pools.flatMap((p, i) => p.members.map((m) => ({ group: groupIds[i]!, member: hostIds[m]! }))),
          teams: [],
        };
        return { input, ids: [...hostIds, ...groupIds, ...serviceIds], failing: r.failing, seeds: r.failing.slice(0, 2) };
      });
  });
}
