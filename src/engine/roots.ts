import { csrFromPairs } from './csr.ts';
import { failureComponents, singleCauseComponents } from './components.ts';
import { EntitySet } from './entity-set.ts';
import { propagate } from './implied.ts';
import { stronglyConnected } from './scc.ts';
import { withScratch, type Scratch } from './scratch.ts';
import type { Topology } from './topology.ts';

/**
 * Root causes, design section 5. F is the set of failing entities.
 *
 * The units are the strongly connected components of failureComponents() (hard dependencies plus group → member
 * for groups that can go down). For a component C, let base = F \ C and
 *   explained(C) = (F ∩ C) ∩ implied(base)       failing members some failure outside C accounts for
 *   U(C)         = (F ∩ C) \ implied(base)       failing members nothing outside C accounts for
 * The design's literal rule ("C is a root when none of its failing members is in implied(F \ C)") is exact when C
 * holds no group: then one failing member takes the whole component down, so either all of F ∩ C is explained or
 * none is. With a group inside a cycle it is not: a member can be explained from outside while another is not, and
 * calling the whole component "not a root" leaves that other member explained by nothing (invariant 2 breaks). So
 * the root unit of C is U(C), not C: the failing members of C that nothing outside C explains.
 *
 * When U(C) has several members (failures inside one cycle), it is refined (refineUnit): members that others of
 * U(C) take down are suppressed by them; what remains is one unit per independent failure. A pure hard cycle
 * failing stays one unit, since each of its members takes all the others down.
 *
 * Invariants (test/engine/properties.test.ts checks them on random graphs, with the units as the "roots"):
 *   F non-empty ⇒ at least one unit; F ⊆ implied(∪ units); no unit meets implied(all other units).
 *
 * Cost: one propagation of F (O(implied(F) and its edges)); per failing component C one pass over its down members
 * (a few more inside a cycle that fails in several independent places); then, to say who suppresses what, one
 * propagation per unit (O(units × implied(F)) at worst) and, only for failures no single root explains, one walk
 * down the down set each. docs/engine.md has measured figures.
 */
export interface RootUnitIndexes {
  /** The failure component (index in failureComponents) the unit belongs to. */
  component: number;
  /** Failing entities of the unit (a singleton unless a cycle fails together). */
  entities: Int32Array;
}

export interface RootIndexAnalysis {
  units: RootUnitIndexes[];
  /** Every failing entity that is not in a unit → indexes into `units` of the units that explain it (sorted). */
  explainedBy: Map<number, number[]>;
  /** implied(F), which equals implied(∪ units). */
  down: Int32Array;
}

export interface RootCause {
  component: number;
  entities: string[];
}

export interface RootAnalysis {
  roots: RootCause[];
  /** Failing entities that are not roots → the root causes that explain them (for "suppressed by"). */
  suppressedBy: Map<string, RootCause[]>;
  /** Everything down: implied(F) = implied(roots). */
  down: EntitySet;
  /** Ids of F that are not in the topology (unmapped alerts): neither roots nor suppressed. */
  unknown: string[];
}

export function roots(topology: Topology, failing: Iterable<string>): RootAnalysis {
  const { indexes, unknown } = topology.resolve(failing);
  const analysis = rootIndexes(topology, indexes);
  const causes = analysis.units.map((u): RootCause => ({ component: u.component, entities: topology.idsOf(u.entities) }));
  const suppressedBy = new Map<string, RootCause[]>();
  for (const [v, units] of analysis.explainedBy) suppressedBy.set(topology.ids[v]!, units.map((i) => causes[i]!));
  return { roots: causes, suppressedBy, down: new EntitySet(topology, analysis.down), unknown };
}

/**
 * `options.explain: false` leaves `explainedBy` empty: which units are roots is then known at the cost of one
 * propagation and the local fixpoints, and `explainUnits` says who suppresses what later, if anyone asks.
 */
export function rootIndexes(topology: Topology, failing: ArrayLike<number>, options: { explain?: boolean } = {}): RootIndexAnalysis {
  const comps = failureComponents(topology);
  return withScratch(topology, (s) =>
    withScratch(topology, (local) => withScratch(topology, (base) => {
      // s.stamp marks D = implied(F); s.stamp2 marks F (same epoch).
      const tail = propagate(topology, s, failing);
      const down = s.queue.slice(0, tail);
      const epoch = s.epoch;
      const isDown = (v: number) => s.stamp[v] === epoch;
      const failingByComponent = new Map<number, number[]>();
      for (let i = 0; i < failing.length; i++) {
        const v = failing[i]!;
        if (s.stamp2[v] === epoch) continue;
        s.stamp2[v] = epoch;
        const c = comps.of[v]!;
        const list = failingByComponent.get(c);
        if (list) list.push(v);
        else failingByComponent.set(c, [v]);
      }

      const units: RootUnitIndexes[] = [];
      for (const [c, failingHere] of failingByComponent) {
        for (const entities of componentUnits(topology, c, failingHere, isDown, local, base)) units.push({ component: c, entities });
      }

      const explainedBy = options.explain === false ? new Map<number, number[]>() : explain(topology, units, failingByComponent, isDown, local);
      return { units, explainedBy, down };
    })),
  );
}

/**
 * The root units of one failure component c, from the failing entities in it (`failingHere`) and what is down
 * (`isDown`: implied(F)); empty when something outside c explains all of them. Reads nothing of F outside c: the
 * down state below c carries all of it, which is what lets LiveRoots recompute only the components a change
 * touched. Two scratches of the topology: `base` holds c's base while `local` extends it.
 */
export function componentUnits(
  topology: Topology,
  c: number,
  failingHere: readonly number[],
  isDown: (v: number) => boolean,
  local: Scratch,
  base: Scratch,
): Int32Array[] {
  const comps = failureComponents(topology);
  const known = baseOf(topology, comps.of, comps.members, c, isDown, base);
  return unitsOverBase(topology, c, failingHere.filter((v) => !known.has(v)), isDown, local, known);
}

/**
 * The root units of component c given its base (what is down inside c from outside alone) and the failing members
 * of c the base does not hold (`unexplained`). For LiveRoots, which keeps the base between updates; `local` is
 * scratch for the closures of refineUnit.
 */
export function unitsOverBase(
  topology: Topology,
  c: number,
  unexplained: readonly number[],
  isDown: (v: number) => boolean,
  local: Scratch,
  base: ComponentBase,
): Int32Array[] {
  if (unexplained.length === 0) return [];
  if (unexplained.length === 1) return [Int32Array.of(unexplained[0]!)];
  const within = new Within(topology, failureComponents(topology).of, c, isDown, local, base);
  return refineUnit(within, [...unexplained], singleCauseComponents(topology).of).map((u) => Int32Array.from(u));
}

/** `explainedBy` of a rootIndexes result computed without it: the same answer, asked for later (`down`: implied(F)
 *  as a mask over entity indexes). */
export function explainUnits(topology: Topology, failing: ArrayLike<number>, units: RootUnitIndexes[], down: Uint8Array): Map<number, number[]> {
  const all: number[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < failing.length; i++) {
    const v = failing[i]!;
    if (!seen.has(v)) {
      seen.add(v);
      all.push(v);
    }
  }
  return withScratch(topology, (s) => explain(topology, units, new Map([[0, all]]), (v) => down[v] === 1, s));
}

/**
 * What is down inside failure component C from outside alone: C ∩ implied(F \ C), with, for each group of C, how
 * many of its members inside C that holds and how many of its members outside C are down (`baseOf`).
 */
export interface ComponentBase {
  has(v: number): boolean;
  /** Group of C: its members inside C in the base. */
  inside(g: number): number;
  /** Group of C: its members outside C that are down. */
  outside(g: number): number;
}

/**
 * Fixpoints inside one failure component C, with everything outside C at its state in implied(F). Since every hard
 * dependency and every member of a vertex of C lies in C or below it, and below C the state under F \ C is the state
 * under F (locality of implied), `close(seeds)` = C ∩ implied((F \ C) ∪ seeds) for seeds ⊆ C.
 *
 * The base (what comes from outside) is the same for every call: `close` only extends it from its seeds. refineUnit
 * calls `close` once per independent failure inside C, and when much of a large component is down from outside,
 * that is the difference between the size of the base and the size of what one failure adds to it.
 */
class Within {
  constructor(
    private readonly topology: Topology,
    private readonly of: Int32Array,
    private readonly c: number,
    private readonly isDown: (v: number) => boolean,
    private readonly s: Scratch,
    readonly base: ComponentBase,
  ) {}

  /** The closure, as a membership test valid until the next call (it reads the scratch marks). */
  close(seeds: readonly number[]): (v: number) => boolean {
    const { base } = this;
    const extra = extendWithin(this.topology, this.of, this.c, this.isDown, this.s, seeds, base);
    return (v) => base.has(v) || extra(v);
  }
}

/** Marks in `s` what `seeds` add inside c to a closed set (`base`); a membership test of the addition. */
function extendWithin(
  topology: Topology,
  of: Int32Array,
  c: number,
  isDown: (v: number) => boolean,
  s: Scratch,
  seeds: readonly number[],
  base: ComponentBase,
): (v: number) => boolean {
  const { hardDependents, memberOf, downAt } = topology;
  const epoch = s.begin();
  let tail = 0;
  const mark = (v: number) => {
    if (s.stamp[v] === epoch || base.has(v)) return;
    s.stamp[v] = epoch;
    s.queue[tail++] = v;
  };
  for (const v of seeds) mark(v);
  for (let head = 0; head < tail; head++) {
    const u = s.queue[head]!;
    for (let i = hardDependents.offsets[u]!; i < hardDependents.offsets[u + 1]!; i++) {
      const d = hardDependents.targets[i]!;
      if (of[d] === c && isDown(d)) mark(d);
    }
    for (let i = memberOf.offsets[u]!; i < memberOf.offsets[u + 1]!; i++) {
      const g = memberOf.targets[i]!;
      const at = downAt[g]!;
      if (at === 0 || of[g] !== c || !isDown(g) || s.stamp[g] === epoch || base.has(g)) continue;
      const count = s.countStamp[g] === epoch ? s.count[g]! + 1 : 1;
      s.countStamp[g] = epoch;
      s.count[g] = count;
      if (count + base.inside(g) + base.outside(g) >= at) mark(g);
    }
  }
  return (v) => s.stamp[v] === epoch;
}

const EMPTY_BASE: ComponentBase = { has: () => false, inside: () => 0, outside: () => 0 };

/** The base of component c worked out from the down set, marked in scratch `b` (valid until its next use). */
function baseOf(topology: Topology, of: Int32Array, members: { offsets: Int32Array; targets: Int32Array }, c: number, isDown: (v: number) => boolean, b: Scratch): ComponentBase {
  const { hardDeps, members: groupMembers, downAt } = topology;
  const external: number[] = [];
  const outside = new Map<number, number>();
  for (let i = members.offsets[c]!; i < members.offsets[c + 1]!; i++) {
    const x = members.targets[i]!;
    if (!isDown(x)) continue; // implied(F \ C) ⊆ implied(F)
    let hit = false;
    for (let j = hardDeps.offsets[x]!; j < hardDeps.offsets[x + 1]! && !hit; j++) {
      const y = hardDeps.targets[j]!;
      hit = of[y] !== c && isDown(y);
    }
    const at = downAt[x]!;
    if (at > 0) {
      let out = 0;
      for (let j = groupMembers.offsets[x]!; j < groupMembers.offsets[x + 1]!; j++) {
        const m = groupMembers.targets[j]!;
        if (of[m] !== c && isDown(m)) out++;
      }
      outside.set(x, out);
      if (out >= at) hit = true;
    }
    if (hit) external.push(x);
  }
  const has = extendWithin(topology, of, c, isDown, b, external, { ...EMPTY_BASE, outside: (g) => outside.get(g) ?? 0 });
  const epoch = b.epoch;
  return {
    has,
    inside: (g) => (b.countStamp[g] === epoch ? b.count[g]! : 0),
    outside: (g) => outside.get(g) ?? 0,
  };
}

/**
 * Splits the unexplained failing members U of one component into root units (only reached when |U| > 1, i.e. when
 * failures inside one cycle are not explained from outside it). base = F \ C throughout.
 * 1. For each u, X(u) = what u alone takes down in U (computed once per single-cause component). The relation is transitive, so its strongly connected
 *    components with nothing above them (the candidates) take down, between them, all of U: every other member of U
 *    is in some candidate's X.
 * 2. Candidates are dropped, in a fixed order (lowest entity index first), while the remaining others take them
 *    down together (a group may need two of them). What stays is a set of units whose closure still covers U and
 *    none of which the others take down: the invariants hold, and a failure that several roots explain together is
 *    suppressed by them rather than paging as a root of its own.
 * A pure hard cycle is one candidate: the whole of U, one unit.
 */
function refineUnit(within: Within, unexplained: number[], singleCause: Int32Array): number[][] {
  // Members of one single-cause component take each other down: one representative each (a big pure cycle failing
  // in many places costs one closure, not one per failure).
  const representatives: number[] = [];
  const byComponent = new Map<number, number>();
  const grouped: number[][] = [];
  for (const v of unexplained) {
    let g = byComponent.get(singleCause[v]!);
    if (g === undefined) {
      g = representatives.length;
      byComponent.set(singleCause[v]!, g);
      representatives.push(v);
      grouped.push([]);
    }
    grouped[g]!.push(v);
  }
  const k = representatives.length;
  if (k === 1) return [unexplained];
  const from: number[] = [];
  const to: number[] = [];
  for (let i = 0; i < k; i++) {
    const down = within.close([representatives[i]!]);
    for (let j = 0; j < k; j++) {
      if (j !== i && down(representatives[j]!)) {
        from.push(i);
        to.push(j);
      }
    }
  }
  const sccs = stronglyConnected(k, csrFromPairs(k, from, to));
  const hasAbove = new Uint8Array(sccs.count);
  for (let e = 0; e < from.length; e++) {
    const a = sccs.of[from[e]!]!;
    const b = sccs.of[to[e]!]!;
    if (a !== b) hasAbove[b] = 1;
  }
  let kept: number[][] = [];
  for (let c = 0; c < sccs.count; c++) {
    if (hasAbove[c]) continue;
    const unit: number[] = [];
    for (let i = sccs.members.offsets[c]!; i < sccs.members.offsets[c + 1]!; i++) unit.push(...grouped[sccs.members.targets[i]!]!);
    kept.push(unit.sort((a, b) => a - b));
  }
  if (kept.length === 1) return kept;
  kept.sort((a, b) => a[0]! - b[0]!);
  for (const candidate of [...kept]) {
    const others = kept.filter((u) => u !== candidate);
    // Within a candidate every member takes down every other: one member covered means all are.
    if (within.close(others.flat())(candidate[0]!)) kept = others;
  }
  return kept;
}

/**
 * Which units explain each failing non-root entity x:
 * - the units U with x ∈ implied(U): each alone accounts for x (the usual case, and the precise one: a member of a
 *   group cycle is not "explained" by another member that could not take it down);
 * - when no single unit does (x needed a group that two roots took down together), the units reached from x by
 *   walking down chains of down entities, each needing the next (hard dependency, group → member), without passing
 *   through a root. x ∈ implied(∪ units) has a derivation that is such a chain, so x gets at least one.
 * Cost: one propagation per unit, plus one walk of the down set per entity only explained jointly.
 */
function explain(
  topology: Topology,
  units: RootUnitIndexes[],
  failingByComponent: Map<number, number[]>,
  isDown: (v: number) => boolean,
  s: Scratch,
): Map<number, number[]> {
  const unitOf = new Map<number, number>();
  units.forEach((u, i) => u.entities.forEach((v) => unitOf.set(v, i)));
  const explainedBy = new Map<number, number[]>();
  const suppressed: number[] = [];
  for (const list of failingByComponent.values()) for (const v of list) if (!unitOf.has(v)) suppressed.push(v);
  if (suppressed.length === 0) return explainedBy;
  const isSuppressed = new Set(suppressed);

  units.forEach((unit, ui) => {
    const tail = propagate(topology, s, unit.entities);
    for (let i = 0; i < tail; i++) {
      const v = s.queue[i]!;
      if (!isSuppressed.has(v)) continue;
      const list = explainedBy.get(v);
      if (list) list.push(ui);
      else explainedBy.set(v, [ui]);
    }
  });

  const { hardDeps, members, downAt } = topology;
  for (const x of suppressed) {
    if (explainedBy.has(x)) continue;
    const epoch = s.begin();
    const found = new Set<number>();
    let tail = 0;
    s.stamp[x] = epoch;
    s.queue[tail++] = x;
    const visit = (v: number) => {
      if (s.stamp[v] === epoch || !isDown(v)) return;
      s.stamp[v] = epoch;
      const unit = unitOf.get(v);
      if (unit !== undefined) found.add(unit);
      else s.queue[tail++] = v;
    };
    for (let head = 0; head < tail; head++) {
      const u = s.queue[head]!;
      for (let i = hardDeps.offsets[u]!; i < hardDeps.offsets[u + 1]!; i++) visit(hardDeps.targets[i]!);
      if (downAt[u]! > 0) for (let i = members.offsets[u]!; i < members.offsets[u + 1]!; i++) visit(members.targets[i]!);
    }
    explainedBy.set(x, [...found].sort((a, b) => a - b));
  }
  return explainedBy;
}
