import { SUBJECTS } from '../bus/layout.ts';
import type { NatsConnection } from '../bus/nats.ts';
import type { Driver, Neo4jSettings } from '../graph/neo4j.ts';
import type { Logger } from '../log.ts';
import { prepareTopology } from './components.ts';
import { readCachedTopology, saveCachedTopology } from './cached.ts';
import { loadTopology } from './load.ts';
import { compileTopology, type Topology, type TopologyInput } from './topology.ts';

/** Problems of a topology logged at each load (all are counted). */
const LOGGED_PROBLEMS = 20;
/** A failed reload is tried again after 5 s, then 10 s, 20 s … at most every 5 minutes, until one succeeds. */
const RETRY_FIRST_MS = 5_000;
const RETRY_MAX_MS = 300_000;

export interface Snapshot {
  topology: Topology;
  /** When it was read from Neo4j (for a copy from NATS: when the copy was). */
  loadedAt: Date;
  loadSeconds: number;
  /** Where it came from: Neo4j, or the copy in NATS of an earlier load (Neo4j did not answer at start). */
  source: 'neo4j' | 'cache';
}

/**
 * Holds the current topology snapshot. A reload builds a new snapshot beside the old one and swaps the
 * reference: a question being answered keeps the snapshot it started with, and nothing ever sees half a graph.
 * `faultline.topology.changed` triggers a reload; a burst of imports coalesces into one. A reload that fails
 * (Neo4j restarting) keeps the snapshot in use and is tried again until one succeeds, and one follows every
 * reconnection to NATS: the announcement is a plain NATS message, and an import that finished while this process
 * was cut off would otherwise go unseen until the next.
 */
export class TopologyStore {
  private snapshot: Snapshot | undefined;
  private loading: Promise<Snapshot> | undefined;
  private again = false;
  private readonly listeners: ((snapshot: Snapshot) => void)[] = [];
  private retry: NodeJS.Timeout | undefined;
  private failures = 0;
  /** Whether `watch` runs: only then is a failed reload tried again. */
  private watching = false;

  constructor(
    private readonly driver: Driver,
    private readonly settings: Neo4jSettings,
    private readonly log: Logger,
    /** With `cache`, every load is copied to NATS (engine/cached.ts) for a process that starts while Neo4j is down. */
    private readonly options: { cache?: NatsConnection } = {},
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
        const snapshot: Snapshot = { topology: loaded.topology, loadedAt: new Date(), loadSeconds: loaded.seconds, source: 'neo4j' };
        this.log.info({ ...loaded.counts, seconds: loaded.seconds }, 'topology loaded');
        this.swap(snapshot);
        if (this.options.cache) this.copyToCache(this.options.cache, loaded.input, snapshot.loadedAt);
        return snapshot;
      } finally {
        this.loading = undefined;
        if (this.again) {
          this.again = false;
          this.reloadInBackground();
        }
      }
    })();
    return this.loading;
  }

  /**
   * A process's first load: from Neo4j, or, when it does not answer (`neo4jDown`: it did not when connecting), from
   * the copy in NATS of an earlier load (`source: 'cache'`), which a reload from Neo4j replaces as soon as one
   * succeeds. Without a copy, Neo4j's error.
   */
  async loadFirst(nats: NatsConnection, neo4jDown?: Error): Promise<Snapshot> {
    try {
      if (neo4jDown) throw neo4jDown;
      return await this.reload();
    } catch (err) {
      this.log.warn({ err }, 'Neo4j does not answer; looking for the topology copy in NATS');
      const cached = await this.loadCached(nats).catch((cacheErr: unknown) => {
        this.log.error({ err: cacheErr }, 'the topology copy in NATS could not be read');
        return undefined;
      });
      if (!cached) throw err;
      return cached;
    }
  }

  private async loadCached(nats: NatsConnection): Promise<Snapshot | undefined> {
    const started = performance.now();
    const cached = await readCachedTopology(nats);
    if (!cached) return undefined;
    const topology = compileTopology(cached.input);
    prepareTopology(topology);
    const snapshot: Snapshot = { topology, loadedAt: cached.loadedAt, loadSeconds: Math.round((performance.now() - started) / 10) / 100, source: 'cache' };
    this.log.info({ entities: topology.size, teams: topology.teams.length, loadedAt: cached.loadedAt.toISOString(), seconds: snapshot.loadSeconds }, 'topology loaded from its copy in NATS');
    this.swap(snapshot);
    return snapshot;
  }

  private swap(snapshot: Snapshot): void {
    this.snapshot = snapshot;
    const { problems } = snapshot.topology;
    if (problems.length > 0) this.log.warn({ count: problems.length, problems: problems.slice(0, LOGGED_PROBLEMS) }, 'the topology has problems; each is handled as the message says');
    for (const listener of this.listeners) listener(snapshot);
  }

  /** In the background: a failed copy costs only the fallback, never the load. */
  private copyToCache(nats: NatsConnection, input: TopologyInput, loadedAt: Date): void {
    saveCachedTopology(nats, input, loadedAt).then(
      (written) => {
        if (written) this.log.debug({ loadedAt: loadedAt.toISOString() }, 'topology copied to NATS');
      },
      (err: unknown) => this.log.warn({ err }, 'the topology could not be copied to NATS; a restart while Neo4j is down would not find it'),
    );
  }

  /** Called after every swap (the correlator re-maps its alerts onto the new graph). */
  onSwap(listener: (snapshot: Snapshot) => void): void {
    this.listeners.push(listener);
  }

  /** How many reloads in a row have failed (0 once one succeeds): `faultline_topology_reload_failures`. */
  get failing(): number {
    return this.failures;
  }

  /** Reloads whenever an import announces a change, and after a reconnection; returns a function that stops it. */
  watch(nats: NatsConnection): () => void {
    const subscription = nats.subscribe(SUBJECTS.topologyChanged, {
      callback: (err) => {
        if (!err) this.reloadInBackground();
      },
    });
    this.watching = true;
    void (async () => {
      for await (const status of nats.status()) {
        if (!this.watching) return;
        if (status.type === 'reconnect') this.reloadInBackground();
      }
    })();
    return () => {
      this.watching = false;
      subscription.unsubscribe();
      clearTimeout(this.retry);
      this.retry = undefined;
    };
  }

  /** A reload nobody waits for: a failure is logged, and (while watching) it is tried again with a growing pause. */
  reloadInBackground(): void {
    clearTimeout(this.retry);
    this.retry = undefined;
    this.reload().then(
      () => {
        if (this.failures > 0) this.log.info({ after: this.failures }, 'topology reloaded after failed attempts');
        this.failures = 0;
      },
      (err: unknown) => {
        this.failures++;
        const inMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** Math.min(this.failures - 1, 16));
        if (!this.watching) {
          this.log.error({ err, failures: this.failures }, 'topology reload failed; keeping the previous snapshot');
          return;
        }
        this.log.error({ err, failures: this.failures, retryInMs: inMs }, 'topology reload failed; keeping the previous snapshot and trying again');
        this.retry = setTimeout(() => this.reloadInBackground(), inMs);
        this.retry.unref();
      },
    );
  }
}
