import { EntitySet } from './entity-set.ts';
import { withScratch, type Scratch } from './scratch.ts';
import type { Topology } from './topology.ts';

/**
 * implied(S), design section 5: the entities that must be down when all of S is down.
 * - every e in S is down;
 * - e is down when any hard dependency of e is down (RUNS_ON counts as one);
 * - a group is down when fewer than minHealthy of its members are up, i.e. when `downAt[g]` members are down
 *   (a group without members, or with minHealthy 0, is never down by membership);
 * - soft dependencies never propagate.
 *
 * It is the least set closed under these rules, computed by a worklist over the reverse edges: each down entity
 * marks its hard dependents and bumps the down-member counter of its groups. Every vertex is queued at most once and
 * every reverse edge of a down vertex is read once, so the cost is O(down + their reverse edges), whatever the
 * cycles: a vertex already down is never queued again.
 */
export function implied(topology: Topology, ids: Iterable<string>): EntitySet {
  return new EntitySet(topology, impliedIndexes(topology, topology.resolve(ids).indexes));
}

/** implied() over indexes; the result lists the seeds first, then every other vertex in the order it went down. */
export function impliedIndexes(topology: Topology, seeds: ArrayLike<number>): Int32Array {
  return withScratch(topology, (s) => {
    const tail = propagate(topology, s, seeds);
    return s.queue.slice(0, tail);
  });
}

export interface ImpliedTrace {
  /** implied(seeds), in the order of propagation. */
  down: Int32Array;
  /** via[i]: the vertex whose failure took down[i] down (for a group: the member that crossed the threshold);
   *  -1 for a seed. Following via from any vertex reaches a seed: one dependency path that explains it. */
  via: Int32Array;
}

export function impliedTrace(topology: Topology, seeds: ArrayLike<number>): ImpliedTrace {
  return withScratch(topology, (s) => {
    const tail = propagate(topology, s, seeds);
    return { down: s.queue.slice(0, tail), via: s.via.slice(0, tail) };
  });
}

/**
 * The worklist. Leaves the down set marked with the scratch's current epoch and listed in queue[0..tail).
 * Exported for the analyses that need the marks afterwards (in the same scratch).
 */
export function propagate(topology: Topology, s: Scratch, seeds: ArrayLike<number>): number {
  const epoch = s.begin();
  const { stamp, queue, via, count, countStamp } = s;
  const { offsets: depOff, targets: dep } = topology.hardDependents;
  const { offsets: grpOff, targets: grp } = topology.memberOf;
  const downAt = topology.downAt;
  let tail = 0;
  for (let i = 0; i < seeds.length; i++) {
    const v = seeds[i]!;
    if (stamp[v] === epoch) continue;
    stamp[v] = epoch;
    via[tail] = -1;
    queue[tail++] = v;
  }
  for (let head = 0; head < tail; head++) {
    const u = queue[head]!;
    for (let i = depOff[u]!, end = depOff[u + 1]!; i < end; i++) {
      const d = dep[i]!;
      if (stamp[d] === epoch) continue;
      stamp[d] = epoch;
      via[tail] = u;
      queue[tail++] = d;
    }
    for (let i = grpOff[u]!, end = grpOff[u + 1]!; i < end; i++) {
      const g = grp[i]!;
      const at = downAt[g]!;
      if (at === 0 || stamp[g] === epoch) continue;
      const c = countStamp[g] === epoch ? count[g]! + 1 : 1;
      countStamp[g] = epoch;
      count[g] = c;
      if (c >= at) {
        stamp[g] = epoch;
        via[tail] = u;
        queue[tail++] = g;
      }
    }
  }
  return tail;
}

/**
 * Degraded: entities that are not down but have a soft dependency on a down one. Reported, never suppressed, and
 * not propagated further (design section 5: soft dependencies never propagate failure). `down` is a down set (the
 * result of implied), not seeds. O(down + their soft dependents).
 */
export function degraded(topology: Topology, down: EntitySet | Iterable<string>): EntitySet {
  const indexes = down instanceof EntitySet ? down.indexes : topology.resolve(down).indexes;
  return new EntitySet(topology, degradedIndexes(topology, indexes));
}

export function degradedIndexes(topology: Topology, down: ArrayLike<number>): Int32Array {
  return withScratch(topology, (s) => {
    const epoch = s.begin();
    const { stamp, stamp2, queue } = s;
    for (let i = 0; i < down.length; i++) stamp[down[i]!] = epoch;
    const { offsets, targets } = topology.softDependents;
    let n = 0;
    for (let i = 0; i < down.length; i++) {
      const d = down[i]!;
      for (let j = offsets[d]!, end = offsets[d + 1]!; j < end; j++) {
        const e = targets[j]!;
        if (stamp[e] === epoch || stamp2[e] === epoch) continue;
        stamp2[e] = epoch;
        queue[n++] = e;
      }
    }
    return queue.slice(0, n);
  });
}
