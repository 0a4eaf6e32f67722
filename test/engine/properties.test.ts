import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  atRisk,
  compileTopology,
  decommissionCheck,
  degraded,
  impact,
  implied,
  roots,
  spofCounts,
  spofs,
  type Topology,
} from '../../src/engine/index.ts';
import { estateArbitrary, numRuns, poolsArbitrary, Reference, type RandomEstate } from './oracle.ts';

/**
 * Properties on random estates (random hard and soft edges with cycles, RUNS_ON, random groups with random
 * minHealthy, random failures). fast-check prints the seed and the shrunk counterexample of a failure; replay with
 * FC_SEED=<seed>, widen with FC_RUNS=<n>.
 */
const sorted = (ids: Iterable<string>) => [...ids].sort();
const idsOf = (ids: string[], indexes: number[]) => [...new Set(indexes.map((i) => ids[i]!))];

describe('implied and degraded', () => {
  it('implied() is the least fixpoint of the rules', () => {
    fc.assert(
      fc.property(estateArbitrary(), ({ input, ids, seeds, failing }) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        for (const s of [seeds, failing, []]) {
          const seedIds = idsOf(ids, s);
          expect(sorted(implied(t, seedIds))).toEqual(sorted(ref.implied(seedIds)));
        }
      }),
      numRuns(400),
    );
  });

  it('degraded(): not down, with a soft dependency on something down', () => {
    fc.assert(
      fc.property(estateArbitrary(), ({ input, ids, failing }) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        const down = ref.implied(idsOf(ids, failing));
        expect(sorted(degraded(t, implied(t, idsOf(ids, failing))))).toEqual(sorted(ref.degraded(down)));
      }),
      numRuns(300),
    );
  });
});

/** The invariants of design section 5, with the units as the roots (a failing cycle is one unit). */
function rootInvariants({ input, ids, failing }: RandomEstate) {
  const t = compileTopology(input);
  const ref = new Reference(input);
  const F = idsOf(ids, failing);
  const r = roots(t, F);
  const units = r.roots.map((u) => u.entities);
  const rootIds = units.flat();

  // F non-empty ⇒ at least one root.
  if (F.length > 0) expect(units.length).toBeGreaterThan(0);
  else expect(units).toEqual([]);
  // Roots are failing entities, in disjoint units.
  expect(new Set(rootIds).size).toBe(rootIds.length);
  for (const v of rootIds) expect(F).toContain(v);
  // Every member of F is a root or in implied(roots).
  const byRoots = ref.implied(rootIds);
  for (const f of F) expect(byRoots.has(f), `${f} unexplained`).toBe(true);
  // No root is in implied(other roots) (the unit is the grain: a failing cycle is one unit).
  units.forEach((unit, i) => {
    const others = ref.implied(units.filter((_, j) => j !== i).flat());
    for (const v of unit) expect(others.has(v), `root ${v} implied by the other roots`).toBe(false);
  });
  // Every failing non-root is suppressed by at least one root; roots are not suppressed.
  for (const f of F) {
    if (rootIds.includes(f)) expect(r.suppressedBy.has(f)).toBe(false);
    else expect(r.suppressedBy.get(f)?.length ?? 0).toBeGreaterThan(0);
  }
  // What is down.
  expect(sorted(r.down)).toEqual(sorted(ref.implied(F)));
}

describe('roots', () => {
  it('satisfy the invariants of design section 5', () => {
    fc.assert(fc.property(estateArbitrary(), rootInvariants), numRuns(500));
  });

  it('satisfy them on small crowded graphs, where groups sit inside cycles', () => {
    fc.assert(fc.property(estateArbitrary({ dense: true }), rootInvariants), numRuns(2000));
  });

  it('satisfy them on redundancy pools whose members need pools (failures inside one cycle)', () => {
    fc.assert(fc.property(poolsArbitrary(), rootInvariants), numRuns(1000));
  });

  it('are exactly the literal definition when no group is involved', () => {
    fc.assert(
      fc.property(estateArbitrary({ groups: false }), ({ input, ids, failing }) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        const F = idsOf(ids, failing);
        const expected: string[] = [];
        for (const comp of ref.hardComponents()) {
          const here = comp.filter((e) => F.includes(e));
          if (here.length === 0) continue;
          const outside = ref.implied(F.filter((e) => !comp.includes(e)));
          if (!here.some((e) => outside.has(e))) expected.push(sorted(here).join('+'));
        }
        expect(roots(t, F).roots.map((u) => sorted(u.entities).join('+')).sort()).toEqual(expected.sort());
      }),
      numRuns(300),
    );
  });

  it('hold on larger graphs with big cycles', () => {
    fc.assert(
      fc.property(estateArbitrary({ maxEntities: 40 }), ({ input, ids, failing }) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        const F = idsOf(ids, failing);
        const units = roots(t, F).roots.map((u) => u.entities);
        const rootIds = units.flat();
        if (F.length > 0) expect(units.length).toBeGreaterThan(0);
        const byRoots = ref.implied(rootIds);
        for (const f of F) expect(byRoots.has(f)).toBe(true);
        units.forEach((unit, i) => {
          const others = ref.implied(units.filter((_, j) => j !== i).flat());
          for (const v of unit) expect(others.has(v)).toBe(false);
        });
      }),
      numRuns(150),
    );
  });
});

describe('spofs', () => {
  function expectSpofsMatch(t: Topology, ref: Reference) {
    const expected = new Map<string, { services: number; critical: number; teams: number; affected: number }>();
    for (const x of ref.ids) {
      const down = ref.implied([x]);
      const services = [...down].filter((e) => e !== x && ref.kind.get(e) === 'service').length;
      const critical = [...down].filter((e) => e !== x && ref.isCriticalEquipment(e)).length;
      if (services > 0 || critical > 0) expected.set(x, { services, critical, teams: ref.ownersOf(down).size, affected: down.size });
    }
    const counts = spofCounts(t);
    const actual = new Map(counts.map((c) => [t.ids[c.entity]!, { services: c.services, critical: c.critical, teams: c.teams, affected: c.affected }]));
    expect(actual).toEqual(expected);
    // Ranked: services, then teams.
    for (let i = 1; i < counts.length; i++) {
      const a = counts[i - 1]!;
      const b = counts[i]!;
      expect(a.services > b.services || (a.services === b.services && a.teams >= b.teams)).toBe(true);
    }
  }

  it('are exactly the entities whose implied set holds a service or critical equipment besides themselves', () => {
    fc.assert(
      fc.property(estateArbitrary(), ({ input }) => {
        expectSpofsMatch(compileTopology(input), new Reference(input));
      }),
      numRuns(400),
    );
  });

  it('match on larger graphs with big cycles and groups', () => {
    fc.assert(
      fc.property(estateArbitrary({ maxEntities: 40 }), ({ input }) => {
        expectSpofsMatch(compileTopology(input), new Reference(input));
      }),
      numRuns(150),
    );
  });

  it('match on redundancy pools', () => {
    fc.assert(
      fc.property(poolsArbitrary(), ({ input }) => {
        expectSpofsMatch(compileTopology(input), new Reference(input));
      }),
      numRuns(300),
    );
  });

  it('list the services and teams of the top ones', () => {
    fc.assert(
      fc.property(estateArbitrary(), ({ input }) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        for (const s of spofs(t, { limit: 5 })) {
          const down = ref.implied([s.entity]);
          expect(sorted(s.services)).toEqual(sorted([...down].filter((e) => e !== s.entity && ref.kind.get(e) === 'service')));
          expect(sorted(s.teams)).toEqual(sorted(ref.ownersOf(down)));
        }
      }),
      numRuns(200),
    );
  });
});

describe('impact, decommission', () => {
  it('impact: affected, services, owners, and a valid path for every service', () => {
    fc.assert(
      fc.property(estateArbitrary(), fc.boolean(), ({ input, ids, seeds }, includeSoft) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        const S = idsOf(ids, seeds);
        const down = ref.implied(S);
        const affected = includeSoft ? new Set([...down, ...ref.degraded(down)]) : down;
        const result = impact(t, S, { includeSoft });
        expect(sorted(result.affected)).toEqual(sorted(affected));
        expect(sorted(result.services)).toEqual(sorted([...affected].filter((e) => ref.kind.get(e) === 'service')));
        expect(sorted(result.owners)).toEqual(sorted(ref.ownersOf(affected)));
        expect(result.explanations.map((e) => e.service)).toEqual(result.services);
        for (const { path, degraded: soft } of result.explanations) {
          expect(S).toContain(path[path.length - 1]);
          for (let i = 0; i + 1 < path.length; i++) {
            const [a, b] = [path[i]!, path[i + 1]!];
            const step = ref.hard.get(a)?.has(b) || ref.members.get(a)?.has(b) || (soft && i === 0 && ref.soft.get(a)?.has(b));
            expect(step, `${a} → ${b}`).toBe(true);
            expect(down.has(b)).toBe(true);
          }
        }
      }),
      numRuns(300),
    );
  });

  it('decommission: breaks = implied(removed) minus what is removed', () => {
    fc.assert(
      fc.property(estateArbitrary(), ({ input, ids, seeds }) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        const S = idsOf(ids, seeds);
        const removed = new Set(S);
        for (const r of input.runsOn) if (removed.has(r.host)) removed.add(r.resource);
        const breaks = [...ref.implied(S)].filter((e) => !removed.has(e));
        const check = decommissionCheck(t, S);
        expect(sorted(check.breaks)).toEqual(sorted(breaks));
        expect(check.safe).toBe(breaks.length === 0);
      }),
      numRuns(200),
    );
  });
});

describe('redundancy lost (atRisk)', () => {
  it('a group at risk is up and goes down with any one more of its up members; its services are what it takes down with it', () => {
    fc.assert(
      fc.property(fc.oneof(estateArbitrary({ groups: true }), poolsArbitrary()), ({ input, ids, failing }) => {
        const t = compileTopology(input);
        const ref = new Reference(input);
        const F = idsOf(ids, failing);
        const downSet = ref.implied(F);
        const down = new Uint8Array(t.size);
        for (const id of downSet) down[t.indexOf(id)!] = 1;
        const near = [...downSet].map((id) => t.indexOf(id)!);
        const result = atRisk(t, down, near);
        const atRiskGroups = new Set(t.idsOf(result.groups));
        // By the reference: a group with a down member that is up, needing at least one, with exactly as many up
        // members as it needs. Then one more member down, any of them, takes it down.
        const expectedGroups = new Set<string>();
        for (const [g, members] of ref.members) {
          if (downSet.has(g) || ![...members].some((m) => downSet.has(m))) continue;
          const need = Math.min(Math.max(ref.minHealthy.get(g) ?? 1, 0), members.size);
          const up = [...members].filter((m) => !downSet.has(m));
          if (need > 0 && up.length === need) {
            expectedGroups.add(g);
            for (const m of up) expect(ref.implied([...F, m]).has(g), `${g} without ${m}`).toBe(true);
          }
        }
        expect(sorted(atRiskGroups)).toEqual(sorted(expectedGroups));
        const holding = new Set<string>();
        for (const g of expectedGroups) for (const m of ref.members.get(g)!) if (!downSet.has(m)) holding.add(m);
        expect(sorted(t.idsOf(result.holding))).toEqual(sorted(holding));
        const expected = new Set<string>();
        const expectedCritical = new Set<string>();
        for (const g of atRiskGroups) {
          for (const e of ref.implied([...downSet, g])) {
            if (downSet.has(e)) continue;
            if (ref.kind.get(e) === 'service') expected.add(e);
            else if (ref.isCriticalEquipment(e)) expectedCritical.add(e);
          }
        }
        expect(sorted(t.idsOf(result.services))).toEqual(sorted(expected));
        expect(sorted(t.idsOf(result.critical))).toEqual(sorted(expectedCritical));
      }),
      numRuns(400),
    );
  });
});
