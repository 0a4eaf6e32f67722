import type { Topology } from './topology.ts';

/**
 * Per-topology working memory for the propagations, so that a call allocates nothing proportional to the estate:
 * marks are epoch-stamped (a new epoch clears them in O(1)), group counters carry the epoch they belong to.
 * The analyses are synchronous; a nested use (an analysis calling another) simply takes a second scratch.
 */
export class Scratch {
  epoch = 0;
  /** stamp[v] === epoch: v is marked (down). */
  readonly stamp: Uint32Array;
  /** A second mark for analyses that need two sets at once. */
  readonly stamp2: Uint32Array;
  /** count[g] is valid when countStamp[g] === epoch. */
  readonly count: Int32Array;
  readonly countStamp: Uint32Array;
  /** Worklist; its prefix is also the result (every marked vertex is queued exactly once). */
  readonly queue: Int32Array;
  /** via[i]: the vertex whose failure marked queue[i] (-1 for a seed). */
  readonly via: Int32Array;

  constructor(n: number) {
    this.stamp = new Uint32Array(n);
    this.stamp2 = new Uint32Array(n);
    this.count = new Int32Array(n);
    this.countStamp = new Uint32Array(n);
    this.queue = new Int32Array(n);
    this.via = new Int32Array(n);
  }

  /** Starts a new epoch: every mark and counter reads as clear. */
  begin(): number {
    if (this.epoch >= 0xfffffffe) {
      this.stamp.fill(0);
      this.stamp2.fill(0);
      this.countStamp.fill(0);
      this.epoch = 0;
    }
    return ++this.epoch;
  }
}

const pools = new WeakMap<Topology, Scratch[]>();

export function withScratch<T>(topology: Topology, work: (scratch: Scratch) => T): T {
  let pool = pools.get(topology);
  if (!pool) {
    pool = [];
    pools.set(topology, pool);
  }
  const scratch = pool.pop() ?? new Scratch(topology.size);
  try {
    return work(scratch);
  } finally {
    pool.push(scratch);
  }
}
