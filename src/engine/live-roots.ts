import { failureComponents } from './components.ts';
import { unitsOverBase, type ComponentBase, type RootUnitIndexes } from './roots.ts';
import { withScratch } from './scratch.ts';
import type { Topology } from './topology.ts';

export interface LiveRootsState {
  /** Units, ordered by their smallest entity index. */
  units: RootUnitIndexes[];
  /** implied(F) as a mask over entity indexes: the tracker's own, changed by the next update; copy to keep. */
  down: Uint8Array;
  downSize: number;
  /** How `units` came from the list the update before handed back: the units that went, and the units that came. */
  change: UnitsChange;
}

export interface UnitsChange {
  before: RootUnitIndexes[];
  gone: ReadonlySet<RootUnitIndexes>;
  added: readonly RootUnitIndexes[];
}

/**
 * The root units of a failing set that changes a little at a time (the correlator's alerts), kept up to date
 * instead of recomputed: the same answer as `rootIndexes`, at the cost of what a change touches rather than of
 * everything that is down.
 *
 * Both halves work per failure component, bottom up. A component c's members are down or not according to its
 * failing members and the down state just below it (what it depends on, in lower components), and so are its root
 * units (`unitsOverBase`). So a change marks the components of the entities whose failing state changed; they are
 * worked out again in component order (dependencies first: `stronglyConnected` numbers them so); each member whose
 * down state flips updates the counters of the members right above it (its hard dependents, its groups) and marks
 * their components, which come later in the order.
 *
 * Per component three things are kept between updates:
 * - what reaches it from below, as counters: per member its hard dependencies down in lower components
 *   (`belowHard`), per group its members down in lower components (`belowMembers`);
 * - its base: what is down inside c from below alone (the closure of the members those counters take down), with
 *   per group its members inside c in the base, and per member a witness of why it is there (settleBase). A member
 *   that gains support extends the base; one that loses it takes out only what stood on it through witnesses, and
 *   what still has support elsewhere is put back;
 * - its down set, which is the base extended by c's failing members (usually a handful of entities on top of it).
 * A component of one member, which is most of them, keeps only the counters: its base, its down state and its unit
 * follow from them (settleSingle).
 *
 * So a large dependency cycle that is mostly down from outside costs what changed in it, not its size, whichever
 * way things change. One instance per topology; not for concurrent use.
 */
export class LiveRoots {
  private readonly failing: Uint8Array;
  private readonly down: Uint8Array;
  private downSize = 0;
  /** Per entity: hard dependencies in other (lower) components that are down. */
  private readonly belowHard: Int32Array;
  /** Per group: members in other (lower) components that are down. */
  private readonly belowMembers: Int32Array;
  /** The base of every component (they are disjoint): down from below alone. */
  private readonly base: Uint8Array;
  /** Per group: members inside its own component that are in the base. */
  private readonly insideBase: Int32Array;
  /**
   * Per member of a base, why it is there: FROM_BELOW, BY_MEMBERS (a group with enough members down), or the member
   * inside its component whose failure took it down (its witness); and when it joined. A witness always joined
   * before what it supports, so what stands on a member that leaves is found by following witnesses up.
   */
  private readonly why: Int32Array;
  private readonly joined: Float64Array;
  private joins = 0;
  /** Per group in a base BY_MEMBERS: its members inside its component that were in the base when it joined. */
  private readonly standsOn: Int32Array;
  /** Per component: members of its base that lost some support from below since it was last worked out. */
  private readonly lost = new Map<number, number[]>();
  /** What left a base in the last settleBase (its prefix), and the work list of a down set's extension. */
  private readonly removed: Int32Array;
  private readonly spread: Int32Array;
  /** Per component: its down members outside its base (the extension by its failing members), last worked out. */
  private readonly extension = new Map<number, number[]>();
  /** In the current update: components whose failing members, or whose groups' members below, changed. */
  private readonly failingMoved = new Set<number>();
  private readonly membersMoved = new Set<number>();
  /** Per component: members that gained support from below since it was last worked out. */
  private readonly gained = new Map<number, number[]>();
  /** Failing entities per failure component. */
  private readonly failingIn = new Map<number, Set<number>>();
  private readonly unitsOf = new Map<number, RootUnitIndexes[]>();
  private units: RootUnitIndexes[] = [];
  private change: UnitsChange = { before: [], gone: new Set(), added: [] };
  /** Components to work out again, smallest first, and which are queued. */
  private readonly dirty = new MinHeap();
  private readonly queued: Uint8Array;
  /** Per component: its one member, or -1 when it has several (see `settleSingle`). */
  private readonly only: Int32Array;
  /** Marks (by stamp), group counts and a work list for the down set inside one component. */
  private readonly mark: Uint32Array;
  private readonly count: Int32Array;
  private readonly countAt: Uint32Array;
  private readonly queue: Int32Array;
  private stamp = 0;
  private applied = 0;

  constructor(readonly topology: Topology) {
    const n = topology.size;
    const { count: components, members } = failureComponents(topology);
    this.failing = new Uint8Array(n);
    this.down = new Uint8Array(n);
    this.belowHard = new Int32Array(n);
    this.belowMembers = new Int32Array(n);
    this.base = new Uint8Array(n);
    this.insideBase = new Int32Array(n);
    this.why = new Int32Array(n);
    this.joined = new Float64Array(n);
    this.standsOn = new Int32Array(n);
    this.removed = new Int32Array(n);
    this.spread = new Int32Array(n);
    this.queued = new Uint8Array(components);
    this.only = new Int32Array(components);
    for (let c = 0; c < components; c++) this.only[c] = members.offsets[c + 1]! - members.offsets[c]! === 1 ? members.targets[members.offsets[c]!]! : -1;
    this.mark = new Uint32Array(n);
    this.count = new Int32Array(n);
    this.countAt = new Uint32Array(n);
    this.queue = new Int32Array(n);
  }

  /** Sets F to `failing` (entity indexes; repeats allowed) and returns the analysis of it. */
  update(failing: ArrayLike<number>): LiveRootsState {
    const wanted = new Set<number>();
    for (let i = 0; i < failing.length; i++) wanted.add(failing[i]!);
    const changes: number[] = [];
    for (const set of this.failingIn.values()) for (const v of set) if (!wanted.has(v)) changes.push(v);
    for (const v of wanted) if (!this.failing[v]) changes.push(v);
    return this.apply(changes, (v) => wanted.has(v));
  }

  /**
   * Takes the failing state `isFailing` gives to each of `entities` (the ones that may have changed since the last
   * update; repeats allowed), the rest of F staying as it is, and returns the analysis. Costs what changed, where
   * `update` also compares all of F.
   */
  apply(entities: Iterable<number>, isFailing: (v: number) => boolean): LiveRootsState {
    this.applied++;
    const before = this.units;
    const comps = failureComponents(this.topology);
    let changed = false;
    for (const v of entities) {
      const now = isFailing(v);
      if (now === (this.failing[v] === 1)) continue;
      const c = comps.of[v]!;
      let set = this.failingIn.get(c);
      if (now) {
        this.failing[v] = 1;
        if (!set) this.failingIn.set(c, (set = new Set()));
        set.add(v);
      } else {
        this.failing[v] = 0;
        set?.delete(v);
        if (set?.size === 0) this.failingIn.delete(c);
      }
      this.markDirty(c);
      this.failingMoved.add(c);
      changed = true;
    }
    if (!changed) {
      this.change = { before, gone: new Set(), added: [] };
      return this.state();
    }

    const isDown = (v: number) => this.down[v] === 1;
    const base: ComponentBase = {
      has: (v) => this.base[v] === 1,
      inside: (g) => this.insideBase[g]!,
      outside: (g) => this.belowMembers[g]!,
    };
    const gone = new Set<RootUnitIndexes>();
    const added: RootUnitIndexes[] = [];
    withScratch(this.topology, (local) => {
      while (this.dirty.size > 0) {
        const c = this.dirty.pop();
        this.queued[c] = 0;
        if (this.only[c]! >= 0) {
          this.settleSingle(c, this.only[c]!, gone, added);
          continue;
        }
        // Its units read only its base, its down set, its failing members and its groups' members below.
        if (!this.settle(c) && !this.failingMoved.has(c) && !this.membersMoved.has(c)) continue;
        const here = this.failingIn.get(c);
        const unexplained = here ? [...here].filter((v) => this.base[v] === 0).sort((a, b) => a - b) : [];
        const units = unitsOverBase(this.topology, c, unexplained, isDown, local, base);
        this.keepUnits(c, units, gone, added);
      }
    });
    this.failingMoved.clear();
    this.membersMoved.clear();
    if (gone.size > 0 || added.length > 0) this.units = withChanges(this.units, gone, added);
    this.change = { before, gone, added };
    return this.state();
  }

  /**
   * Takes component c's units, keeping the objects of those that did not change (whoever holds a unit may cache
   * what it worked out from it); collects the units that went and came.
   */
  private keepUnits(c: number, units: Int32Array[], gone: Set<RootUnitIndexes>, added: RootUnitIndexes[]): void {
    const before = this.unitsOf.get(c) ?? [];
    const now = units.map((entities) => before.find((u) => sameEntities(u.entities, entities)) ?? { component: c, entities });
    for (const u of before) if (!now.includes(u)) gone.add(u);
    for (const u of now) if (!before.includes(u)) added.push(u);
    if (now.length === 0) this.unitsOf.delete(c);
    else this.unitsOf.set(c, now);
  }

  /** Calls of `update` and `apply` so far: who passes changes only can tell whether it saw every one. */
  get updates(): number {
    return this.applied;
  }

  private state(): LiveRootsState {
    return { units: this.units, down: this.down, downSize: this.downSize, change: this.change };
  }

  private markDirty(c: number): void {
    if (this.queued[c]) return;
    this.queued[c] = 1;
    this.dirty.push(c);
  }

  /**
   * Brings component c's base up to date: takes out the members that lost their support from below and what stood
   * on them (by their witnesses), puts back what still stands without them, and extends the base from there and
   * from the members that gained support. Costs what is taken out and put in, not the component's size.
   */
  private settleBase(c: number): { joined: number; out: number } {
    const { hardDependents, memberOf, downAt } = this.topology;
    const { of } = failureComponents(this.topology);
    const { base, why, joined, standsOn, insideBase, belowMembers, queue, removed } = this;
    let tail = 0;
    let out = 0;
    const lost = this.lost.get(c);
    this.lost.delete(c);
    if (lost) {
      for (const x of lost) {
        if (base[x] === 0) continue;
        const w = why[x]!;
        if ((w === FROM_BELOW && !this.seededFromBelow(x)) || (w === BY_MEMBERS && belowMembers[x]! + standsOn[x]! < downAt[x]!)) {
          base[x] = 0;
          removed[out++] = x;
        }
      }
      for (let head = 0; head < out; head++) {
        const u = removed[head]!;
        for (let i = hardDependents.offsets[u]!, end = hardDependents.offsets[u + 1]!; i < end; i++) {
          const d = hardDependents.targets[i]!;
          if (of[d] === c && base[d] === 1 && why[d] === u) {
            base[d] = 0;
            removed[out++] = d;
          }
        }
        for (let i = memberOf.offsets[u]!, end = memberOf.offsets[u + 1]!; i < end; i++) {
          const g = memberOf.targets[i]!;
          if (of[g] !== c || downAt[g] === 0) continue;
          insideBase[g]!--;
          if (base[g] === 1 && why[g] === BY_MEMBERS && joined[u]! < joined[g]! && belowMembers[g]! + --standsOn[g]! < downAt[g]!) {
            base[g] = 0;
            removed[out++] = g;
          }
        }
      }
      for (let k = 0; k < out; k++) {
        const x = removed[k]!;
        if (base[x] === 1) continue;
        const w = this.witness(c, x);
        if (w !== NONE) {
          this.join(x, w);
          queue[tail++] = x;
        }
      }
    }
    const gained = this.gained.get(c);
    this.gained.delete(c);
    for (const x of gained ?? []) {
      if (base[x] === 1) continue;
      const w = this.witness(c, x);
      if (w !== NONE) {
        this.join(x, w);
        queue[tail++] = x;
      }
    }
    for (let head = 0; head < tail; head++) {
      const u = queue[head]!;
      for (let i = hardDependents.offsets[u]!, end = hardDependents.offsets[u + 1]!; i < end; i++) {
        const d = hardDependents.targets[i]!;
        if (of[d] !== c || base[d] === 1) continue;
        this.join(d, u);
        queue[tail++] = d;
      }
      for (let i = memberOf.offsets[u]!, end = memberOf.offsets[u + 1]!; i < end; i++) {
        const g = memberOf.targets[i]!;
        if (of[g] !== c || downAt[g] === 0) continue;
        insideBase[g]!++;
        if (base[g] === 0 && belowMembers[g]! + insideBase[g]! >= downAt[g]!) {
          this.join(g, BY_MEMBERS);
          queue[tail++] = g;
        }
      }
    }
    return { joined: tail, out };
  }

  /** Why x (of component c, not in its base) is in the base now, if it is: its witness, or NONE. */
  private witness(c: number, x: number): number {
    if (this.seededFromBelow(x)) return FROM_BELOW;
    const { hardDeps, downAt } = this.topology;
    const { of } = failureComponents(this.topology);
    for (let i = hardDeps.offsets[x]!, end = hardDeps.offsets[x + 1]!; i < end; i++) {
      const y = hardDeps.targets[i]!;
      if (of[y] === c && this.base[y] === 1) return y;
    }
    const at = downAt[x]!;
    if (at > 0 && this.belowMembers[x]! + this.insideBase[x]! >= at) return BY_MEMBERS;
    return NONE;
  }

  private join(x: number, witness: number): void {
    this.base[x] = 1;
    this.why[x] = witness;
    this.joined[x] = ++this.joins;
    // A group that joins by its members stands on those in the base now, all of which joined before it.
    if (witness === BY_MEMBERS) this.standsOn[x] = this.insideBase[x]!;
  }

  /**
   * Works out component c again: its base (settleBase), then its down set (the base extended by its failing
   * members), then the counters and components right above each member that flipped. Only members that can have
   * flipped are looked at: those that left or joined the base, and those the extension holds now or held last time.
   * Whether anything in c moved (its base or its down set).
   */
  private settle(c: number): boolean {
    const { hardDependents, memberOf, downAt } = this.topology;
    const { of } = failureComponents(this.topology);
    const { base, mark, count, countAt, spread, queue, removed } = this;
    const { joined, out } = this.settleBase(c);

    // The down set: the base, extended by the failing members it does not hold.
    const stamp = this.nextStamp();
    let tail = 0;
    for (const x of this.failingIn.get(c) ?? []) {
      if (base[x] === 1 || mark[x] === stamp) continue;
      mark[x] = stamp;
      spread[tail++] = x;
    }
    for (let head = 0; head < tail; head++) {
      const u = spread[head]!;
      for (let i = hardDependents.offsets[u]!, end = hardDependents.offsets[u + 1]!; i < end; i++) {
        const d = hardDependents.targets[i]!;
        if (of[d] !== c || base[d] === 1 || mark[d] === stamp) continue;
        mark[d] = stamp;
        spread[tail++] = d;
      }
      for (let i = memberOf.offsets[u]!, end = memberOf.offsets[u + 1]!; i < end; i++) {
        const g = memberOf.targets[i]!;
        if (of[g] !== c || downAt[g] === 0 || base[g] === 1 || mark[g] === stamp) continue;
        count[g] = (countAt[g] === stamp ? count[g]! : 0) + 1;
        countAt[g] = stamp;
        if (this.belowMembers[g]! + this.insideBase[g]! + count[g]! >= downAt[g]!) {
          mark[g] = stamp;
          spread[tail++] = g;
        }
      }
    }
    const before = this.extension.get(c);
    if (tail > 0) this.extension.set(c, Array.from(spread.subarray(0, tail)));
    else this.extension.delete(c);

    // What flipped, and what that tells the components above.
    let flipped = false;
    for (let k = 0; k < out; k++) flipped = this.flip(c, removed[k]!, stamp) || flipped;
    for (let k = 0; k < joined; k++) flipped = this.flip(c, queue[k]!, stamp) || flipped;
    for (let k = 0; k < tail; k++) flipped = this.flip(c, spread[k]!, stamp) || flipped;
    for (const x of before ?? []) flipped = this.flip(c, x, stamp) || flipped;
    return flipped || joined > 0 || out > 0;
  }

  /**
   * Works out a component of one member x, which is most of them (the estate is mostly a DAG): nothing inside it
   * supports anything else, so its base is x when support from below takes it down, x is down when that holds or
   * it fails, and it is a root unit of its own when it fails with no support from below. No witnesses, lists or
   * extension are kept for it.
   */
  private settleSingle(c: number, x: number, gone: Set<RootUnitIndexes>, added: RootUnitIndexes[]): void {
    const fromBelow = this.seededFromBelow(x);
    this.base[x] = fromBelow ? 1 : 0;
    this.setDown(c, x, fromBelow || this.failing[x] === 1 ? 1 : 0);
    const root = this.failing[x] === 1 && !fromBelow;
    const before = this.unitsOf.get(c);
    if (root && !before) {
      const unit = { component: c, entities: Int32Array.of(x) };
      this.unitsOf.set(c, [unit]);
      added.push(unit);
    } else if (!root && before) {
      this.unitsOf.delete(c);
      gone.add(before[0]!);
    }
  }

  /**
   * Member x of component c takes its new down state (its base, or this settle's extension marked `stamp`); when
   * that flips it, the counters of what is right above it change. Whether it flipped.
   */
  private flip(c: number, x: number, stamp: number): boolean {
    return this.setDown(c, x, this.base[x] === 1 || this.mark[x] === stamp ? 1 : 0);
  }

  private setDown(c: number, x: number, now: 0 | 1): boolean {
    const { hardDependents, memberOf, downAt } = this.topology;
    const { of } = failureComponents(this.topology);
    if (this.down[x] === now) return false;
    this.down[x] = now;
    const step = now ? 1 : -1;
    this.downSize += step;
    for (let i = hardDependents.offsets[x]!, end = hardDependents.offsets[x + 1]!; i < end; i++) {
      const d = hardDependents.targets[i]!;
      const cd = of[d]!;
      if (cd === c) continue;
      this.belowHard[d]! += step;
      this.above(cd, d, now === 1);
    }
    for (let i = memberOf.offsets[x]!, end = memberOf.offsets[x + 1]!; i < end; i++) {
      const g = memberOf.targets[i]!;
      const cg = of[g]!;
      if (downAt[g] === 0 || cg === c) continue;
      this.belowMembers[g]! += step;
      this.membersMoved.add(cg);
      this.above(cg, g, now === 1);
    }
    return true;
  }

  /** Member v of component cv (above) gained or lost support from below. */
  private above(cv: number, v: number, gained: boolean): void {
    if (this.only[cv]! >= 0) {
      // settleSingle reads the counters themselves.
      this.markDirty(cv);
      return;
    }
    if (gained) {
      if (this.base[v] === 0) {
        const list = this.gained.get(cv);
        if (list) list.push(v);
        else this.gained.set(cv, [v]);
      }
    } else if (this.base[v] === 1) {
      const list = this.lost.get(cv);
      if (list) list.push(v);
      else this.lost.set(cv, [v]);
    }
    this.markDirty(cv);
  }

  /** Down from below whatever happens inside its component: the base keeps it (and all it took down). */
  private seededFromBelow(v: number): boolean {
    const at = this.topology.downAt[v]!;
    return this.belowHard[v]! > 0 || (at > 0 && this.belowMembers[v]! >= at);
  }

  private nextStamp(): number {
    if (this.stamp >= 0xfffffffe) {
      this.mark.fill(0);
      this.countAt.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }
}

/**
 * A new list of `units` (ordered by first entity; units never share an entity) without `gone` and with `added`. A
 * few changes, the usual case, are placed by binary search in a copy; many are merged in one pass.
 */
function withChanges(units: RootUnitIndexes[], gone: Set<RootUnitIndexes>, added: RootUnitIndexes[]): RootUnitIndexes[] {
  if (gone.size + added.length > FEW_CHANGES) return mergeByFirstEntity(units.filter((u) => !gone.has(u)), added);
  const out = units.slice();
  for (const u of gone) {
    const i = firstFrom(out, u.entities[0]!);
    if (out[i] === u) out.splice(i, 1);
  }
  for (const u of added) out.splice(firstFrom(out, u.entities[0]!), 0, u);
  return out;
}

const FEW_CHANGES = 32;

/** The position of the first unit whose first entity is at least v (units ordered by first entity). */
export function firstFrom(units: RootUnitIndexes[], v: number): number {
  let lo = 0;
  let hi = units.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (units[mid]!.entities[0]! < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Units ordered by their first entity (units never share an entity): `sorted` so ordered, `more` in any order. */
function mergeByFirstEntity(sorted: RootUnitIndexes[], more: RootUnitIndexes[]): RootUnitIndexes[] {
  more.sort((a, b) => a.entities[0]! - b.entities[0]!);
  const out: RootUnitIndexes[] = [];
  let i = 0;
  for (const u of more) {
    while (i < sorted.length && sorted[i]!.entities[0]! < u.entities[0]!) out.push(sorted[i++]!);
    out.push(u);
  }
  while (i < sorted.length) out.push(sorted[i++]!);
  return out;
}

function sameEntities(a: Int32Array, b: Int32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const FROM_BELOW = -1;
const BY_MEMBERS = -2;
const NONE = -3;

/** A binary min-heap of component numbers. */
class MinHeap {
  private items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(value: number): void {
    const items = this.items;
    let i = items.length;
    items.push(value);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= items.length) break;
        const child = left + 1 < items.length && items[left + 1]! < items[left]! ? left + 1 : left;
        if (items[child]! >= last) break;
        items[i] = items[child]!;
        i = child;
      }
      items[i] = last;
    }
    return top;
  }
}
