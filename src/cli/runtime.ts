import { readFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { KvMirror } from '../bus/kv-mirror.ts';
import { connectNats, connectNatsWaiting, type NatsConnection } from '../bus/nats.ts';
import { withoutCredentials } from '../redact.ts';
import { loadConfig, type LoadedConfig } from '../config/load.ts';
import { CorrelationView } from '../correlator/view.ts';
import { TopologyStore } from '../engine/store.ts';
import { connectNeo4j, createDriver, type Driver } from '../graph/neo4j.ts';
import { createLogger, type Logger } from '../log.ts';
import { parseDuration } from '../config/duration.ts';
import { PROJECT_ROOT } from '../stack/process.ts';

/** Options every verb accepts (before or after the verb). */
export interface GlobalOptions {
  config?: string;
  logLevel?: string;
}

/** A failure the user can fix from its message alone; printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A flag's value as a whole number of at least 1; otherwise a UsageError naming the flag and the value. */
export function positiveInteger(flag: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag}: "${text}" is not a positive whole number`);
  return n;
}

export const VERSION: string = (JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

export function loadRuntime(global: GlobalOptions): { loaded: LoadedConfig; log: Logger } {
  const loaded = loadConfig(global.config ? { file: global.config } : {});
  const log = createLogger(global.logLevel ?? loaded.config.log.level);
  return { loaded, log };
}

export interface Connections {
  neo4j: Driver;
  nats: NatsConnection;
  /** Why Neo4j did not answer at start (only with neo4jMayBeDown). */
  neo4jDown?: Error;
  close(): Promise<void>;
}

/**
 * Neo4j and NATS together, both proven to answer, or a clear error naming the one that does not. With
 * `neo4jMayBeDown` (faultline serve), an unreachable Neo4j is not an error: `neo4jDown` says why, and the driver
 * connects once it answers (the topology then comes from the copy in NATS, see watchedTopology). With
 * `waitForNats`, a NATS that does not answer yet is waited for (connectNatsWaiting), logged there.
 */
export async function connectAll(config: LoadedConfig['config'], name: string, options: { neo4jMayBeDown?: boolean; waitForNats?: Logger } = {}): Promise<Connections> {
  let neo4j: Driver;
  let neo4jDown: Error | undefined;
  try {
    neo4j = await connectNeo4j(config.neo4j);
  } catch (err) {
    if (!options.neo4jMayBeDown) throw err;
    neo4jDown = err as Error;
    neo4j = createDriver(config.neo4j);
  }
  let nats: NatsConnection;
  try {
    nats = options.waitForNats ? await connectNatsWaiting(config.nats.url, name, options.waitForNats) : await connectNats(config.nats.url, name);
  } catch (err) {
    await neo4j.close();
    throw err;
  }
  return {
    neo4j,
    nats,
    ...(neo4jDown ? { neo4jDown } : {}),
    async close() {
      await Promise.allSettled([nats.drain(), neo4j.close()]);
    },
  };
}

/**
 * The topology snapshot every graph answer comes from: loaded now, reloaded on `faultline.topology.changed`, and
 * copied to NATS after each load. When Neo4j does not answer at start, the copy in NATS is used (with a warning)
 * and Neo4j is tried again in the background until it answers; without a copy, the start fails with Neo4j's error.
 * The caller stops watching with the returned `stop`.
 */
export async function watchedTopology(connections: Connections, config: LoadedConfig['config'], log: Logger): Promise<{ store: TopologyStore; stop: () => void }> {
  const store = new TopologyStore(connections.neo4j, config.neo4j, log.child({ component: 'topology' }), { cache: connections.nats });
  const first = await store.loadFirst(connections.nats, connections.neo4jDown);
  const stop = store.watch(connections.nats);
  if (first.source === 'cache') {
    log.warn({ loadedAt: first.loadedAt.toISOString() }, 'Neo4j does not answer: deciding on the topology copied to NATS when it was last loaded, until Neo4j answers');
    store.reloadInBackground();
  }
  return { store, stop };
}

/**
 * The topology for a command: from Neo4j, or, when Neo4j does not answer (an outage is when the operator needs the
 * CLI most), from the copy the last `faultline serve` load left in NATS, said on stderr. Without a copy, Neo4j's error.
 */
export async function commandTopology(connections: Pick<Connections, 'neo4j' | 'nats' | 'neo4jDown'>, config: LoadedConfig['config'], log: Logger): Promise<TopologyStore> {
  // The graph's problems are the import's to report; here they would bury the command's answer.
  const topology = new TopologyStore(connections.neo4j, config.neo4j, log.child({}, { level: 'error' }));
  const first = await topology.loadFirst(connections.nats, connections.neo4jDown);
  if (first.source === 'cache') {
    process.stderr.write(`faultline: Neo4j at ${withoutCredentials(config.neo4j.uri)} does not answer; using the topology copied to NATS at ${first.loadedAt.toISOString()} (imports since then are not in it)\n`);
  }
  return topology;
}

/**
 * The correlator's state as it decides on it now (alerts, incidents, windows over the graph), read once for a
 * command: the caller stops the view. Errors name the NATS that could not be read.
 */
export async function correlationState(connections: Connections, config: LoadedConfig['config'], log: Logger): Promise<CorrelationView> {
  const topology = await commandTopology(connections, config, log);
  try {
    return await CorrelationView.open(connections.nats, topology, config.correlator);
  } catch (err) {
    throw new Error(`the correlator's state in NATS at ${withoutCredentials(config.nats.url)} could not be read (has faultline serve or dev run there?): ${(err as Error).message}`);
  }
}

/**
 * Resolves when the process is asked to stop (Ctrl-C, SIGTERM). The listeners stay for the shutdown that follows:
 * without one, a second signal (a second Ctrl-C, systemd and a supervisor both stopping it) would kill the process
 * by the signal in the middle of closing, with pages half enqueued. Repeats are logged and ignored; `kill -9` forces.
 * (A signal listener keeps no process alive.)
 */
export function untilSignalled(log?: Logger): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first: NodeJS.Signals | undefined;
    const stop = (signal: NodeJS.Signals) => {
      if (first) {
        log?.warn({ signal }, 'shutting down already; the signal is ignored');
        return;
      }
      first = signal;
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/**
 * A copy of one of the correlator's KV buckets (incidents, maintenance windows), loaded, for the length of `work`;
 * `work` gets the connection too. A bucket that cannot be read is one error naming the NATS and the likely cause.
 */
export async function withBucket<T, R>(url: string, bucket: string, work: (mirror: KvMirror<T>, nc: NatsConnection) => Promise<R> | R): Promise<R> {
  const nc = await connectNats(url, `faultline-cli-${bucket}`);
  try {
    let mirror: KvMirror<T>;
    try {
      mirror = await KvMirror.open<T>(nc, bucket);
      await mirror.ready;
    } catch (err) {
      throw new Error(`${bucket} in NATS at ${withoutCredentials(url)} could not be read (has faultline serve or dev run there?): ${(err as Error).message}`);
    }
    try {
      return await work(mirror, nc);
    } finally {
      mirror.stop();
    }
  } finally {
    await nc.close();
  }
}

/**
 * `--from` (default now), and `--for <duration>` or `--until <time>` (one of them): when a maintenance window or a
 * silence starts and ends, in milliseconds.
 */
export function spanOptions(options: { from?: string | undefined; for?: string | undefined; until?: string | undefined }, now: number): { start: number; end: number } {
  const time = (flag: string, text: string) => {
    const ms = Date.parse(text);
    if (Number.isNaN(ms)) throw new UsageError(`${flag}: "${text}" is not a time; give one like 2026-12-08T02:00:00Z (or now)`);
    return ms;
  };
  const start = options.from === undefined || options.from === 'now' ? now : time('--from', options.from);
  if ((options.for === undefined) === (options.until === undefined)) throw new UsageError('say how long: --for 2h, or --until 2026-12-08T06:00:00Z (one of them)');
  if (options.until !== undefined) return { start, end: time('--until', options.until) };
  const ms = parseDuration(options.for!);
  if (ms === undefined || ms <= 0) throw new UsageError(`--for: "${options.for}" is not a duration; give one like 30m, 2h or 1h30m`);
  return { start, end: start + ms };
}

/** A `--since` duration (30m, 24h, 7d) in milliseconds; a usage error naming the option otherwise. */
export function sinceOption(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms <= 0) throw new UsageError(`--since: "${text}" is not a duration (30m, 24h, 7d)`);
  return ms;
}

/** Who runs this command, as acknowledgements and maintenance windows record it: user@host. */
export const operatorName = (): string => `${userInfo().username}@${hostname()}`;
