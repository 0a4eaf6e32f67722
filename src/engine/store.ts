import { SUBJECTS } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import type { Driver, Neo4jSettings } from '../graph/neo4j.ts';
import type { Logger } from '../log.ts';
import { prepareTopology } from './components.ts';
import { loadTopology } from './load.ts';
import type { Topology } from './topology.ts';

/** Problems of a topology logged at each load (all are counted). */
const LOGGED_PROBLEMS = 20;

export interface Snapshot {
  topology: Topology;
  loadedAt: Date;
  loadSeconds: number;
}

/**
 * Holds the current topology snapshot. A reload builds a new snapshot beside the old one and swaps the
 * reference: a question being answered keeps the snapshot it started with, and nothing ever sees half a graph.
 * `faultline.topology.changed` triggers a reload; a burst of imports coalesces into one.
 */
export class TopologyStore {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  private again = false;
  private readonly listeners: ((snapshot: Snapshot) => void)[] = [];

  constructor(
    private readonly driver: Driver,
    private readonly settings: Neo4jSettings,
    private readonly log: Logger,
  ) {}

  /** The current snapshot, or undefined before the first load completed. */
  get loaded(): Snapshot | undefined {
    return this.snapshot;
  }

  /** The current snapshot; throws before the first load completed (callers load at start). */
  get current(): Snapshot {
    if (!this.snapshot) throw new Error('the topology is not loaded yet');
    return this.snapshot;
  }

  /** Loads now (or joins the load in flight and runs one more after it, so no change is missed). */
  reload(): Promise<Snapshot> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        const loaded = await loadTopology(this.driver, this.settings);
        // The component structures every analysis reads, worked out before the swap: the first event after a
        // reload does not wait for them.
        prepareTopology(loaded.topology);
        const snapshot = { topology: loaded.topology, loadedAt: new Date(), loadSeconds: loaded.seconds };
        this.snapshot = snapshot;
        this.log.info({ ...loaded.counts, seconds: loaded.seconds }, 'topology loaded');
        const { problems } = loaded.topology;
        if (problems.length > 0) this.log.warn({ count: problems.length, problems: problems.slice(0, LOGGED_PROBLEMS) }, 'the topology has problems; each is handled as the message says');
        for (const listener of this.listeners) listener(snapshot);
        return snapshot;
      } finally {
        this.loading = undefined;
        if (this.again) {
          this.again = false;
          void this.reload().catch((err: unknown) => this.log.error({ err }, 'topology reload failed; keeping the previous snapshot'));
        }
      }
    })();
    return this.loading;
  }

  /** Called after every swap (the correlator re-maps its alerts onto the new graph). */
  onSwap(listener: (snapshot: Snapshot) => void): void {
    this.listeners.push(listener);
  }

  /** Reloads whenever an import announces a change; returns a function that stops listening. */
  watch(nats: NatsConnection): () => void {
    const subscription = nats.subscribe(SUBJECTS.topologyChanged, {
      callback: (err) => {
        if (err) return;
        this.reload().catch((e: unknown) => this.log.error({ err: e }, 'topology reload failed; keeping the previous snapshot'));
      },
    });
    return () => subscription.unsubscribe();
  }
}
