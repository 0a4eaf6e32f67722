import { AckPolicy, jetstream, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { CasWriter } from '../src/bus/cas-writer.ts';
import { ensureLayout, KV_BUCKETS, STREAMS, SUBJECTS } from '../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../src/bus/nats.ts';
import { configSchema } from '../src/config/schema.ts';
import { alertKey, type AlertRecord } from '../src/correlator/alert.ts';
import { CONSUMER, Correlator, MAX_IN_FLIGHT } from '../src/correlator/correlator.ts';
import { STATUSES, type Status } from '../src/correlator/event.ts';
import { KIND, type Topology } from '../src/engine/topology.ts';
import { createLogger } from '../src/log.ts';
import { benchEstate, percentile } from './engine.ts';
import { benchServices, cpuMeter, drained, publishAll, round3, rssMb, seconds, sleep, startCpuProfile, wipeBus } from './services.ts';
import { prng } from '../test/support/random.ts';

/**
 * `npm run bench -- correlator [--events 100000] [--entities 100000] [--identities 10000] [--seed 1]
 * [--reuse-estate] [--storing-in-flight 250] [--profile FILE.cpuprofile]`: the correlator's throughput and decision
 * latency on a synthetic estate (bench/engine.ts's generator and writer), against a bare JetStream consumer reading
 * the same events.
 *
 * Setup, not measured: the estate written into Neo4j (a child process; `--reuse-estate` keeps a stored estate of
 * exactly `--entities` entities) and loaded with TopologyStore; faultline's streams and buckets deleted and created
 * again (ensureLayout); `--events` events over `--identities` alert identities `<host>/<check>` published to
 * `faultline.events.bench` (1,000 publishes in flight). Half the identities name a resource of their host in
 * `entity`, the others are host-level checks. Statuses follow a per-identity Markov chain: about one event in ten
 * changes its identity's status, about 5 % of identities are critical at any time; event times strictly increase.
 *
 * Measured:
 * - raw: a durable pull consumer (explicit ack) reads every message with `consume({max_messages: 2000})` and acks
 *   it; done when all were received and the consumer has nothing pending or unacknowledged (`rawEventsPerSecond`);
 * - storing: the floor under any correlator that stores state before acknowledging (`storingConsume`): JSON only, a
 *   compare-and-set KV write per new identity or status change, ack after it (`storingEventsPerSecond`,
 *   `fractionOfStoring` = eventsPerSecond / storingEventsPerSecond), with the correlator's window of events in
 *   flight unless `--storing-in-flight` says otherwise (4000 comes close to the raw consumer's);
 * - the correlator (`Correlator.start`, default settle 30 s so no incident opens, no notify channels): from its
 *   start until `stats.events` = N and its consumer has nothing pending or unacknowledged (`eventsPerSecond`,
 *   `fractionOfRaw` = eventsPerSecond / rawEventsPerSecond), and its per-event decision latencies
 *   (`takeLatencies()`: receipt to the suppression decision, `decisionP50Ms`, `decisionP99Ms`; and, to tell the
 *   first pass from the steady state, `decisionP99MsAfterFirstPass` over the latencies decided after the first
 *   `--identities`);
 * - per phase, the CPU time per event of this process, all its threads (`rawCpuUsPerEvent`, `storingCpuUsPerEvent`,
 *   `cpuUsPerEvent`: steadier than the rates on a shared machine, whose neighbours take CPU time from it at random),
 *   and of the bench stack's nats-server when it runs one (`rawNatsCpuUsPerEvent`, ...): the two share the cores.
 * Checked afterwards (the bench fails otherwise): one alert record per identity in the KV bucket, and on a sample of
 * 200 identities the stored status is the last generated (`sampledStaleTime` counts stored times older than the
 * last event's: refreshes not written). `--profile` writes a V8 CPU profile of the correlator's run only (open it
 * in Chrome DevTools or speedscope).
 */
export async function run(args: Record<string, string>): Promise<Record<string, unknown>> {
  const events = Number(args.events ?? 100_000);
  const entities = Number(args.entities ?? 100_000);
  const identities = Number(args.identities ?? 10_000);
  const seed = Number(args.seed ?? 1);
  const reuseEstate = args['reuse-estate'] === 'true';
  const profile = args.profile;
  const storingInFlight = Number(args['storing-in-flight'] ?? MAX_IN_FLIGHT);
  if (!Number.isInteger(entities) || entities < 1000) throw new Error('--entities must be an integer >= 1000');
  if (!Number.isInteger(identities) || identities < 1) throw new Error('--identities must be a positive integer');
  if (!Number.isInteger(storingInFlight) || storingInFlight < 2) throw new Error('--storing-in-flight must be an integer >= 2');
  if (!Number.isInteger(events) || events < identities) throw new Error('--events must be an integer >= --identities (each identity gets an event)');

  const { config: services, neo4j, nats, natsPid } = await benchServices();
  const config = configSchema.parse({ neo4j: services.neo4j, nats: services.nats, log: { level: 'silent' } });
  const log = createLogger('silent');
  const progress = (text: string) => process.stderr.write(`bench correlator: ${text}\n`);
  const connections: NatsConnection[] = [];
  try {
    // ---- the estate (not measured) ----
    const setupStarted = performance.now();
    const { topology, snapshot } = await benchEstate(neo4j, config, { entities, seed, reuseEstate }, log, progress);
    progress(`estate of ${snapshot.topology.size} entities ready in ${seconds(setupStarted)} s (load ${snapshot.loadSeconds} s)`);

    // ---- the bus, emptied, and the events ----
    const jsm = await jetstreamManager(nats);
    await wipeBus(jsm);
    await ensureLayout(nats);
    const traffic = syntheticTraffic(snapshot.topology, events, identities, prng(seed + 2));
    progress(
      `${events} events over ${identities} identities (${traffic.byEntity} naming a resource in entity): ` +
        `${pct(traffic.changes / Math.max(1, events - identities))} of the events after each identity's first change its status, ${pct(traffic.criticalAtEnd / identities)} of identities critical at the end`,
    );
    const publishStarted = performance.now();
    await publishAll(nats, SUBJECTS.events('bench'), traffic.payloads, 1_000);
    const publishSeconds = seconds(publishStarted);
    const streamed = (await jsm.streams.info(STREAMS.events.name)).state.messages;
    if (streamed !== events) throw new Error(`the stream holds ${streamed} messages, ${events} published`);
    progress(`published in ${publishSeconds} s (${Math.round(events / publishSeconds)}/s)`);

    // ---- baseline: a bare consumer ----
    const rawNats = await connectNats(config.nats.url, 'faultline-bench-raw');
    connections.push(rawNats);
    const rawMeter = cpuMeter(natsPid);
    const raw = await rawConsume(rawNats, jsm, events);
    const rawCpu = rawMeter(events);
    await rawNats.close();
    const rawEventsPerSecond = Math.round(events / raw.seconds);
    progress(`raw consumer: ${raw.seconds} s (${rawEventsPerSecond}/s; CPU per event ${describeCpu(rawCpu)})`);

    // ---- second baseline: a bare consumer that stores each change before acknowledging ----
    const floorNats = await connectNats(config.nats.url, 'faultline-bench-floor');
    connections.push(floorNats);
    const floorMeter = cpuMeter(natsPid);
    const floor = await storingConsume(floorNats, jsm, events, storingInFlight);
    const floorCpu = floorMeter(events);
    await floorNats.close();
    const floorEventsPerSecond = Math.round(events / floor.seconds);
    progress(`storing consumer, ${storingInFlight} in flight: ${floor.seconds} s (${floorEventsPerSecond}/s, ${floor.writes} KV writes; CPU per event ${describeCpu(floorCpu)})`);

    // ---- the correlator ----
    const correlatorNats = await connectNats(config.nats.url, 'faultline-bench-correlator');
    connections.push(correlatorNats);
    const profiler = profile ? await startCpuProfile(profile) : undefined;
    const started = performance.now();
    const meter = cpuMeter(natsPid);
    const correlator = await Correlator.start({ config, log, nats: correlatorNats, topology, recordLatencies: true });
    const startMs = round3(performance.now() - started);
    // Appended in a loop: a spread of hundreds of thousands of arguments overflows the stack.
    const latencies: number[] = [];
    const takeLatencies = () => {
      for (const ms of correlator.takeLatencies()) latencies.push(ms);
    };
    let lastReport = performance.now();
    for (;;) {
      takeLatencies();
      if (correlator.stats.events >= events) {
        const info = await jsm.consumers.info(STREAMS.events.name, CONSUMER);
        // Done when every event is stored, acknowledged and decided (the last analysis may follow the last ack).
        if (info.num_pending === 0 && info.num_ack_pending === 0 && latencies.length >= events) break;
        await sleep(5);
        continue;
      }
      if (performance.now() - lastReport > 2_000) {
        lastReport = performance.now();
        progress(`  ${correlator.stats.events} events after ${seconds(started)} s`);
      }
      await sleep(50);
    }
    const correlatorSeconds = seconds(started);
    const cpu = meter(events);
    takeLatencies();
    if (profiler) {
      await profiler.stop();
      progress(`CPU profile of the correlator's run written to ${profile}`);
    }
    const eventsPerSecond = Math.round(events / correlatorSeconds);
    const decisionP50Ms = round3(percentile(latencies, 0.5));
    const decisionP99Ms = round3(percentile(latencies, 0.99));
    const decisionMaxMs = round3(latencies.reduce((max, ms) => Math.max(max, ms), 0));
    // Diagnostic: the first pass gives every identity its first event, each one a write; what follows is the
    // steady state an estate that is already known sees (latencies are in the order they were decided).
    const decisionP99MsAfterFirstPass = round3(percentile(latencies.slice(identities), 0.99));
    const stats = { ...correlator.stats, latencies: latencies.length };
    const incidentsOpen = correlator.view.incidents.size;
    progress(
      `correlator: ${correlatorSeconds} s (${eventsPerSecond}/s, start ${startMs} ms), decision p50 ${decisionP50Ms} ms, ` +
        `p99 ${decisionP99Ms} ms (${decisionP99MsAfterFirstPass} ms after the first pass), max ${decisionMaxMs} ms; CPU per event ${describeCpu(cpu)}; ` +
        `stats ${JSON.stringify(stats)}`,
    );
    await correlator.stop();
    await correlatorNats.close();

    // ---- correctness ----
    const check = await checkState(nats, traffic, prng(seed + 3));
    const kvWrites = (await jsm.streams.info(`KV_${KV_BUCKETS.alerts}`)).state.last_seq;
    progress(`checked: ${check.records} alert records, ${check.sampled} sampled identities hold their last status (${check.staleTime} with an older time); ${kvWrites} KV writes`);
    if (latencies.length !== events) throw new Error(`${latencies.length} decision latencies recorded for ${events} events`);
    if (stats.invalid > 0) throw new Error(`${stats.invalid} events refused as invalid`);

    const fractionOfRaw = Math.round((eventsPerSecond / rawEventsPerSecond) * 100) / 100;
    const fractionOfStoring = Math.round((eventsPerSecond / floorEventsPerSecond) * 100) / 100;
    const targets = { eventsPerSecond: 20_000, fractionOfRaw: 0.5, decisionP99Ms: 50 };
    return {
      bench: 'correlator',
      events,
      identities,
      entities: snapshot.topology.size,
      seconds: correlatorSeconds,
      eventsPerSecond,
      rawSeconds: raw.seconds,
      rawEventsPerSecond,
      fractionOfRaw,
      storingSeconds: floor.seconds,
      storingEventsPerSecond: floorEventsPerSecond,
      storingKvWrites: floor.writes,
      storingInFlight,
      fractionOfStoring,
      decisionP50Ms,
      decisionP99Ms,
      decisionMaxMs,
      decisionP99MsAfterFirstPass,
      ...cpuFields('', cpu),
      ...cpuFields('raw', rawCpu),
      ...cpuFields('storing', floorCpu),
      rssMb: rssMb(),
      targets,
      met: {
        eventsPerSecond: eventsPerSecond >= targets.eventsPerSecond,
        fractionOfRaw: fractionOfRaw >= targets.fractionOfRaw,
        decisionP99Ms: decisionP99Ms <= targets.decisionP99Ms,
      },
      startMs,
      ignored: stats.ignored,
      kvWrites,
      incidents: incidentsOpen,
      alertRecords: check.records,
      sampledChecked: check.sampled,
      sampledStaleTime: check.staleTime,
      statusChanges: traffic.changes,
      byEntity: traffic.byEntity,
      criticalAtEnd: traffic.criticalAtEnd,
      publishSeconds,
      loadSeconds: snapshot.loadSeconds,
      seed,
    };
  } finally {
    for (const nc of connections) if (!nc.isClosed()) await nc.close();
    await nats.close();
    await neo4j.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The traffic

/**
 * Per-identity status chain. An ok identity fails with probability 0.058 per event (critical half of the time);
 * a failing one leaves its status with probability 0.5 (mostly back to ok). Stationary: about 90.6 % ok, 5 %
 * critical; about 10 % of events change their identity's status.
 */
const CHAIN: Record<Status, { leave: number; to: [Status, number][] }> = {
  ok: { leave: 0.058, to: [['critical', 0.5], ['warning', 0.4], ['unknown', 0.1]] },
  warning: { leave: 0.5, to: [['ok', 0.8], ['critical', 0.2]] },
  critical: { leave: 0.5, to: [['ok', 0.8], ['warning', 0.2]] },
  unknown: { leave: 0.5, to: [['ok', 0.8], ['critical', 0.2]] },
};

/** The chain's stationary distribution (power iteration), to draw each identity's first status from. */
function stationary(): Record<Status, number> {
  let p: Record<Status, number> = { ok: 1, warning: 0, critical: 0, unknown: 0 };
  for (let i = 0; i < 1000; i++) {
    const next: Record<Status, number> = { ok: 0, warning: 0, critical: 0, unknown: 0 };
    for (const s of STATUSES) {
      next[s] += p[s] * (1 - CHAIN[s].leave);
      for (const [t, w] of CHAIN[s].to) next[t] += p[s] * CHAIN[s].leave * w;
    }
    p = next;
  }
  return p;
}

const draw = (weights: [Status, number][], random: () => number): Status => {
  let x = random();
  for (const [s, w] of weights) {
    if (x < w) return s;
    x -= w;
  }
  return weights[weights.length - 1]![0];
};

const HOST_CHECKS = ['ping', 'ssh', 'load', 'disk-root', 'disk-var', 'memory', 'swap', 'ntp', 'puppet-agent', 'procs'];

interface Traffic {
  payloads: Uint8Array[];
  ids: string[];
  /** Last generated status and time per identity (by index in ids). */
  last: { status: Status; time: number }[];
  changes: number;
  byEntity: number;
  criticalAtEnd: number;
}

/**
 * Identities spread evenly over the estate's hosts; every other identity names one of its host's resources
 * (`entity`) while the host has unused ones, the others are host-level checks. The first pass gives every
 * identity one event (in a random order), then each event picks an identity at random.
 */
function syntheticTraffic(t: Topology, events: number, identities: number, random: () => number): Traffic {
  const hosts: number[] = [];
  const resourcesOf = new Map<number, number[]>();
  for (let v = 0; v < t.size; v++) {
    if (t.kinds[v] === KIND.host) hosts.push(v);
    else if (t.kinds[v] === KIND.resource && t.host[v]! >= 0) {
      const list = resourcesOf.get(t.host[v]!);
      if (list) list.push(v);
      else resourcesOf.set(t.host[v]!, [v]);
    }
  }
  hosts.sort((a, b) => (t.ids[a]! < t.ids[b]! ? -1 : 1));
  const perHost = new Map<number, { resources: number; checks: number }>();
  const identity: { host: string; check: string; entity?: string }[] = [];
  let byEntity = 0;
  for (let i = 0; i < identities; i++) {
    const h = hosts[i % hosts.length]!;
    const used = perHost.get(h) ?? { resources: 0, checks: 0 };
    perHost.set(h, used);
    const resources = resourcesOf.get(h) ?? [];
    const host = t.ids[h]!;
    // Alternate, shifted by one on each pass over the hosts so that a host with two identities gets one of each.
    if ((i + Math.floor(i / hosts.length)) % 2 === 0 && used.resources < resources.length) {
      const r = resources[used.resources++]!;
      const entity = t.ids[r]!;
      identity.push({ host, check: `res-${entity.slice(host.length + 2).replace(/[^A-Za-z0-9_-]+/g, '-')}`, entity });
      byEntity++;
    } else {
      const k = used.checks++;
      identity.push({ host, check: k < HOST_CHECKS.length ? HOST_CHECKS[k]! : `check-${k}` });
    }
  }
  if (new Set(identity.map((x) => `${x.host}/${x.check}`)).size !== identities) throw new Error('identities are not unique');

  const start = stationary();
  const initial: [Status, number][] = STATUSES.map((s) => [s, start[s]]);
  const state: Status[] = identity.map(() => draw(initial, random));
  const last: { status: Status; time: number }[] = identity.map(() => ({ status: 'ok', time: 0 }));
  const seen = new Uint8Array(identities);
  const order = Array.from({ length: identities }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const encoder = new TextEncoder();
  const t0 = Date.now() - events - 60_000; // one event per millisecond, ending a minute ago
  const payloads: Uint8Array[] = [];
  let changes = 0;
  for (let e = 0; e < events; e++) {
    const i = e < identities ? order[e]! : Math.floor(random() * identities);
    const before = state[i]!;
    const chain = CHAIN[before];
    const status = random() < chain.leave ? draw(chain.to, random) : before;
    state[i] = status;
    if (seen[i] && status !== last[i]!.status) changes++;
    seen[i] = 1;
    const time = t0 + e;
    last[i] = { status, time };
    const { host, check, entity } = identity[i]!;
    const text = status === 'ok' ? `OK - ${check}` : `${status.toUpperCase()} - ${check} on ${host}`;
    payloads.push(encoder.encode(JSON.stringify({ host, check, status, time: new Date(time).toISOString(), text, ...(entity ? { entity } : {}) })));
  }
  return {
    payloads,
    ids: identity.map((x) => `${x.host}/${x.check}`),
    last,
    changes,
    byEntity,
    criticalAtEnd: last.filter((l) => l.status === 'critical').length,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Baseline, checks, helpers

/** A bare durable pull consumer reading and acknowledging every message; deleted afterwards. */
async function rawConsume(nc: NatsConnection, jsm: JetStreamManager, n: number): Promise<{ seconds: number }> {
  const name = 'faultline-bench-raw';
  await jsm.consumers.add(STREAMS.events.name, { durable_name: name, ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000, max_ack_pending: 20_000, filter_subject: SUBJECTS.eventsAll });
  try {
    const consumer = await jetstream(nc).consumers.get(STREAMS.events.name, name);
    let received = 0;
    const started = performance.now();
    const messages = await consumer.consume({
      max_messages: 2_000,
      callback: (msg) => {
        received++;
        msg.ack();
      },
    });
    await drained(jsm, name, () => received >= n);
    const took = seconds(started);
    messages.stop();
    return { seconds: took };
  } finally {
    await jsm.consumers.delete(STREAMS.events.name, name);
  }
}

/**
 * The floor under any correlator that stores alert state before acknowledging: a durable pull consumer with
 * `inFlight` events unacknowledged at most (pulled half at a time, as the correlator does) that parses each event
 * as JSON, writes it to a scratch KV bucket (compare-and-set, the correlator's CasWriter) when its identity is new
 * or its status changed, and acknowledges
 * once that is stored; a repeat is acknowledged at once. No validation, no mapping, no analysis, no refresh kept.
 * The consumer and the bucket are deleted afterwards.
 */
async function storingConsume(nc: NatsConnection, jsm: JetStreamManager, n: number, inFlight: number): Promise<{ seconds: number; writes: number }> {
  const name = 'faultline-bench-floor';
  const bucket = 'faultline-bench-floor';
  await new Kvm(nc).create(bucket, { history: 1 });
  await jsm.consumers.add(STREAMS.events.name, { durable_name: name, ack_policy: AckPolicy.Explicit, ack_wait: 60_000_000_000, max_ack_pending: inFlight, filter_subject: SUBJECTS.eventsAll });
  const writer = new CasWriter(nc);
  try {
    const consumer = await jetstream(nc).consumers.get(STREAMS.events.name, name);
    const stored = new Map<string, { status: string; revision: number }>();
    const chains = new Map<string, Promise<void>>();
    let received = 0;
    let writes = 0;
    const started = performance.now();
    const messages = await consumer.consume({
      max_messages: Math.floor(inFlight / 2),
      callback: (msg) => {
        received++;
        const event = JSON.parse(utf8.decode(msg.data)) as { host: string; check: string; status: string };
        const key = alertKey(`${event.host}/${event.check}`);
        const before = chains.get(key);
        if (!before && stored.get(key)?.status === event.status) {
          msg.ack();
          return;
        }
        const done = (before ?? Promise.resolve()).then(async () => {
          const known = stored.get(key);
          if (known?.status !== event.status) {
            writes++;
            const revision = await writer.write(`$KV.${bucket}.${key}`, msg.data, known?.revision ?? 0);
            stored.set(key, { status: event.status, revision });
          }
          msg.ack();
        });
        const tail = done.finally(() => {
          if (chains.get(key) === tail) chains.delete(key);
        });
        chains.set(key, tail);
      },
    });
    await drained(jsm, name, () => received >= n);
    const took = seconds(started);
    messages.stop();
    return { seconds: took, writes };
  } finally {
    writer.close();
    await jsm.consumers.delete(STREAMS.events.name, name);
    await jsm.streams.delete(`KV_${bucket}`);
  }
}

/** Resolves once `allReceived()` holds and consumer `name` has nothing pending or unacknowledged. */
/**
 * One alert record per identity, and on a sample the last generated status: else throws. A stored time older than
 * the last event's (a refresh not written yet) is counted, not refused.
 */
async function checkState(nc: NatsConnection, traffic: Traffic, random: () => number): Promise<{ records: number; sampled: number; staleTime: number }> {
  const kv = await new Kvm(nc).open(KV_BUCKETS.alerts);
  let records = 0;
  for await (const key of await kv.keys()) if (key) records++;
  if (records !== traffic.ids.length) throw new Error(`the alert bucket holds ${records} records for ${traffic.ids.length} identities`);
  const sample = new Set<number>();
  while (sample.size < Math.min(200, traffic.ids.length)) sample.add(Math.floor(random() * traffic.ids.length));
  const wrong: string[] = [];
  let staleTime = 0;
  for (const i of sample) {
    const id = traffic.ids[i]!;
    const entry = await kv.get(alertKey(id));
    const record = entry?.operation === 'PUT' ? entry.json<AlertRecord>() : undefined;
    const want = traffic.last[i]!;
    if (record?.status !== want.status) {
      wrong.push(`${id}: stored ${record ? `${record.status} at ${record.time}` : 'nothing'}, last generated ${want.status} at ${want.time}`);
    } else if (record.time !== want.time) staleTime++;
  }
  if (wrong.length > 0) throw new Error(`${wrong.length}/${sample.size} sampled alerts do not hold their last status:\n${wrong.slice(0, 10).join('\n')}`);
  return { records, sampled: sample.size, staleTime };
}

const utf8 = new TextDecoder();
type PhaseCpu = { processUsPerEvent: number; natsUsPerEvent?: number };
/** A phase's CPU figures as result fields: `<phase>CpuUsPerEvent` and, when known, `<phase>NatsCpuUsPerEvent`. */
const cpuFields = (phase: string, cpu: PhaseCpu): Record<string, number> => {
  const name = (what: string) => (phase ? `${phase}${what}` : what[0]!.toLowerCase() + what.slice(1));
  return { [name('CpuUsPerEvent')]: cpu.processUsPerEvent, ...(cpu.natsUsPerEvent !== undefined ? { [name('NatsCpuUsPerEvent')]: cpu.natsUsPerEvent } : {}) };
};
const describeCpu = (cpu: PhaseCpu) =>
  `${cpu.processUsPerEvent} µs here${cpu.natsUsPerEvent !== undefined ? `, ${cpu.natsUsPerEvent} µs in nats-server` : ''}`;
const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
