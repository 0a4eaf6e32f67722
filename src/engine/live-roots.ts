import { failureComponents } from './components.ts';
import { componentUnits, type RootUnitIndexes } from './roots.ts';
import { withScratch } from './scratch.ts';
import type { Topology } from './topology.ts';

export interface LiveRootsState {
  /** Units, ordered by their smallest entity index. */
  units: RootUnitIndexes[];
  /** implied(F) as a mask over entity indexes: the tracker's own, changed by the next update; copy to keep. */
  down: Uint8Array;
  downSize: number;
}

/**
 * The root units of a failing set that changes a little at a time (the correlator's alerts), kept up to date
 * instead of recomputed: the same answer as `rootIndexes`, at the cost of what a change touches rather than of
 * everything that is down.
 *
 * Both halves work per failure component, bottom up. A component's members are down or not according to its
 * failing members and the down state just below it (what it depends on, in lower components), and so are its root
 * units (`componentUnits`). So a change marks the components of the entities whose failing state changed; they are
 * worked out again in component order (dependencies first: `stronglyConnected` numbers them so); each member whose
 * down state flips marks the components right above it (its hard dependents, its groups), which come later in the
 * order. Nothing is taken down or brought back beyond what really flips, cycles included, and components nothing
 * flipped below keep their units.
 *
 * Cost of an update: the components marked, their members and edges: about the entities whose down state flips
 * and their edges. One instance per topology; not for concurrent use.
 */
export class LiveRoots {
  private readonly failing: Uint8Array;
  private readonly down: Uint8Array;
  private downSize = 0;
  /** Failing entities per failure component. */
  private readonly failingIn = new Map<number, Set<number>>();
  private readonly unitsOf = new Map<number, RootUnitIndexes[]>();
  private units: RootUnitIndexes[] = [];
  /** Components to work out again, smallest first, and which are queued. */
  private readonly dirty = new MinHeap();
  private readonly queued: Uint8Array;
  /** Marks (by stamp) and a work list for the closure inside one component. */
  private readonly mark: Uint32Array;
  private readonly inside: Int32Array;
  private readonly queue: Int32Array;
  private stamp = 0;

  constructor(readonly topology: Topology) {
    const n = topology.size;
    this.failing = new Uint8Array(n);
    this.down = new Uint8Array(n);
    this.queued = new Uint8Array(failureComponents(topology).count);
    this.mark = new Uint32Array(n);
    this.inside = new Int32Array(n);
    this.queue = new Int32Array(n);
  }

  /** Sets F to `failing` (entity indexes; repeats allowed) and returns the analysis of it. */
  update(failing: ArrayLike<number>): LiveRootsState {
    const comps = failureComponents(this.topology);
    const wanted = new Set<number>();
    for (let i = 0; i < failing.length; i++) wanted.add(failing[i]!);
    let changed = false;
    for (const [c, set] of this.failingIn) {
      for (const v of set) {
        if (wanted.has(v)) continue;
        this.failing[v] = 0;
        set.delete(v);
        this.markDirty(c);
        changed = true;
      }
      if (set.size === 0) this.failingIn.delete(c);
    }
    for (const v of wanted) {
      if (this.failing[v]) continue;
      this.failing[v] = 1;
      const c = comps.of[v]!;
      let set = this.failingIn.get(c);
      if (!set) this.failingIn.set(c, (set = new Set()));
      set.add(v);
      this.markDirty(c);
      changed = true;
    }
    if (!changed) return this.state();

    const isDown = (v: number) => this.down[v] === 1;
    withScratch(this.topology, (local) =>
      withScratch(this.topology, (base) => {
        while (this.dirty.size > 0) {
          const c = this.dirty.pop();
          this.queued[c] = 0;
          this.settle(c);
          const here = this.failingIn.get(c);
          const units = here ? componentUnits(this.topology, c, [...here].sort((a, b) => a - b), isDown, local, base) : [];
          if (units.length === 0) this.unitsOf.delete(c);
          else this.unitsOf.set(c, units.map((entities) => ({ component: c, entities })));
        }
      }),
    );
    this.units = [...this.unitsOf.values()].flat().sort((a, b) => a.entities[0]! - b.entities[0]!);
    return this.state();
  }

  private state(): LiveRootsState {
    return { units: this.units, down: this.down, downSize: this.downSize };
  }

  private markDirty(c: number): void {
    if (this.queued[c]) return;
    this.queued[c] = 1;
    this.dirty.push(c);
  }

  /**
   * Works out which members of component c are down, from its failing members and the (final) state below it, and
   * marks the components right above each member that flipped.
   */
  private settle(c: number): void {
    const { hardDeps, hardDependents, members, memberOf, downAt } = this.topology;
    const comps = failureComponents(this.topology);
    const { of } = comps;
    const { down, failing, mark, inside, queue } = this;
    const stamp = this.nextStamp();
    const from = comps.members.offsets[c]!;
    const to = comps.members.offsets[c + 1]!;
    // Down from below, or failing: the seeds of the closure inside c.
    let tail = 0;
    for (let k = from; k < to; k++) {
      const x = comps.members.targets[k]!;
      let seed = failing[x] === 1;
      for (let i = hardDeps.offsets[x]!, end = hardDeps.offsets[x + 1]!; i < end && !seed; i++) {
        const y = hardDeps.targets[i]!;
        seed = of[y] !== c && down[y] === 1;
      }
      const at = downAt[x]!;
      if (!seed && at > 0) {
        let outside = 0;
        for (let i = members.offsets[x]!, end = members.offsets[x + 1]!; i < end; i++) {
          const m = members.targets[i]!;
          if (of[m] !== c && down[m] === 1) outside++;
        }
        inside[x] = outside; // counts up with the members inside c that go down
        seed = outside >= at;
      } else if (at > 0) inside[x] = 0;
      if (seed) {
        mark[x] = stamp;
        queue[tail++] = x;
      }
    }
    if (to - from > 1) {
      // Count, for groups of c, their down members outside c first (set above), then close inside c.
      for (let head = 0; head < tail; head++) {
        const u = queue[head]!;
        for (let i = hardDependents.offsets[u]!, end = hardDependents.offsets[u + 1]!; i < end; i++) {
          const d = hardDependents.targets[i]!;
          if (of[d] !== c || mark[d] === stamp) continue;
          mark[d] = stamp;
          queue[tail++] = d;
        }
        for (let i = memberOf.offsets[u]!, end = memberOf.offsets[u + 1]!; i < end; i++) {
          const g = memberOf.targets[i]!;
          if (of[g] !== c || downAt[g] === 0 || mark[g] === stamp) continue;
          if (++inside[g]! >= downAt[g]!) {
            mark[g] = stamp;
            queue[tail++] = g;
          }
        }
      }
    }
    for (let k = from; k < to; k++) {
      const x = comps.members.targets[k]!;
      const now = mark[x] === stamp ? 1 : 0;
      if (down[x] === now) continue;
      down[x] = now;
      this.downSize += now ? 1 : -1;
      for (let i = hardDependents.offsets[x]!, end = hardDependents.offsets[x + 1]!; i < end; i++) {
        const d = hardDependents.targets[i]!;
        if (of[d] !== c) this.markDirty(of[d]!);
      }
      for (let i = memberOf.offsets[x]!, end = memberOf.offsets[x + 1]!; i < end; i++) {
        const g = memberOf.targets[i]!;
        if (downAt[g]! > 0 && of[g] !== c) this.markDirty(of[g]!);
      }
    }
  }

  private nextStamp(): number {
    if (this.stamp >= 0xfffffffe) {
      this.mark.fill(0);
      this.stamp = 0;
    }
    return ++this.stamp;
  }
}

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
