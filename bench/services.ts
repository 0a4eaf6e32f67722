import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
import { jetstream, type JetStreamManager } from '@nats-io/jetstream';
import { KV_BUCKETS, STREAMS } from '../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../src/bus/nats.ts';
import { configSchema } from '../src/config/schema.ts';
import { migrate } from '../src/graph/migrate.ts';
import { connectNeo4j, type Driver } from '../src/graph/neo4j.ts';
import { stackNatsPid, stackUp } from '../src/stack/index.ts';

/** The benchmark's Neo4j and NATS: given ones, or the `bench` stack. */
export async function benchServices() {
  const given = { neo4j: process.env.NEO4J_URI, nats: process.env.NATS_URL };
  const stack = await stackUp('bench', { neo4j: !given.neo4j, nats: !given.nats });
  const config = configSchema.parse({ neo4j: { uri: given.neo4j ?? stack.neo4jUri }, nats: { url: given.nats ?? stack.natsUrl } });
  const neo4j = await connectNeo4j(config.neo4j);
  const nats = await connectNats(config.nats.url, 'faultline-bench');
  // The bench stack's own nats-server, whose CPU time a benchmark may report; unknown for a given NATS_URL.
  const natsPid = given.nats ? undefined : stackNatsPid('bench');
  return { config, neo4j, nats, natsPid };
}

/** Empties the database (in batches, so a large graph does not need one huge transaction) and re-applies the schema. */
export async function wipe(driver: Driver, settings: { uri: string; database?: string }): Promise<void> {
  const session = driver.session();
  try {
    await session.run('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS');
  } finally {
    await session.close();
  }
  await migrate(driver, { uri: settings.uri, ...(settings.database ? { database: settings.database } : {}) });
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1_048_576);
}

/** Linux reports a process's CPU time in clock ticks of 1/100 s (USER_HZ) in /proc/<pid>/stat. */
const TICK_US = 10_000;

/** CPU microseconds (user + system) process `pid` has used, from /proc; undefined where there is none. */
function processCpuUs(pid: number): number | undefined {
  try {
    // The command name (field 2) is in parentheses and may hold spaces: fields are counted after it.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_US;
  } catch {
    return undefined;
  }
}

/**
 * CPU time per event over a phase of a benchmark: this process's (all its threads) and, when its pid is known,
 * nats-server's. Both share the machine's cores, so a phase's rate is set by their sum as much as by either.
 */
export function cpuMeter(natsPid: number | undefined) {
  const own = process.cpuUsage();
  const nats = natsPid === undefined ? undefined : processCpuUs(natsPid);
  return (events: number): { processUsPerEvent: number; natsUsPerEvent?: number } => {
    const used = process.cpuUsage(own);
    const natsNow = natsPid === undefined ? undefined : processCpuUs(natsPid);
    const perEvent = (us: number) => Math.round((us / events) * 10) / 10;
    return {
      processUsPerEvent: perEvent(used.user + used.system),
      ...(nats !== undefined && natsNow !== undefined ? { natsUsPerEvent: perEvent(natsNow - nats) } : {}),
    };
  };
}

/** Deletes faultline's streams and KV buckets (consumers and alert state with them). */
export async function wipeBus(jsm: JetStreamManager): Promise<void> {
  for (const name of [...Object.values(STREAMS).map((s) => s.name), ...Object.values(KV_BUCKETS).map((b) => `KV_${b}`)]) {
    await jsm.streams.delete(name).catch(() => false);
  }
}

/** Publishes every payload, `inFlight` unacknowledged publishes at a time. */
export async function publishAll(nc: NatsConnection, subject: string, payloads: Uint8Array[], inFlight: number): Promise<void> {
  const js = jetstream(nc);
  let next = 0;
  const worker = async () => {
    while (next < payloads.length) await js.publish(subject, payloads[next++]!);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

/**
 * Until `counted()` holds and the durable `consumer` on FAULTLINE_EVENTS has nothing pending or unacknowledged
 * (the last message may be counted before its acknowledgement lands); throws after `timeoutMs`.
 */
export async function drained(jsm: JetStreamManager, consumer: string, counted: () => boolean, timeoutMs = Infinity): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`${consumer} did not take every message within ${timeoutMs} ms`);
    if (counted()) {
      const info = await jsm.consumers.info(STREAMS.events.name, consumer);
      if (info.num_pending === 0 && info.num_ack_pending === 0) return;
    }
    await sleep(5);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Seconds from a `performance.now()` to another (by default now), to the hundredth. */
export const seconds = (since: number, until = performance.now()) => Math.round((until - since) / 10) / 100;
export const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A V8 CPU profile of this process from now (sampled every 500 µs); `stop` writes it to `file` (Chrome DevTools, speedscope). */
export async function startCpuProfile(file: string): Promise<{ stop(): Promise<void> }> {
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

/**
 * Runs a benchmark file as a child (the same Node and tsx loader) with `request` as JSON in the environment
 * variable `env`, and returns the JSON of the last line it printed. `what` names it in the error when it fails.
 */
export async function runChild<T>(fileUrl: string, env: string, request: unknown, what: string): Promise<T> {
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(fileUrl)], {
    env: { ...process.env, [env]: JSON.stringify(request) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`the ${what} process failed (exit code ${code})`);
  return JSON.parse(out.trim().split('\n').pop()!) as T;
}
