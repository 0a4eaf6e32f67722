import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { AckPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { KV_BUCKETS, STREAMS, SUBJECTS } from '../bus/layout.ts';
import { KvConflictError } from '../bus/kv-mirror.ts';
import type { Config } from '../config/schema.ts';
import type { TopologyStore } from '../engine/store.ts';
import type { Logger } from '../log.ts';
import { alertKey, applyEvent, type AlertRecord } from './alert.ts';
import { alertId, parseEventBytes, type AlertEvent, type DeadEvent } from './event.ts';
import { Lease } from './lease.ts';
import { Reconciler } from './reconciler.ts';
import { CorrelationView } from './view.ts';

/**
 * The correlator (design sections 5 and 6), as stages over micro-batches of events:
 *   validate (invalid → faultline.dead.events) → update alert state (KV, compare-and-set) → acknowledge →
 *   decide (analysis.ts) → incidents and notifications (reconciler.ts, on the lease holder only).
 * Events are read from the durable consumer `faultline-correlator`, which every correlator process shares; a
 * message is acknowledged only once the state it produced is stored, so a crash redelivers it, and applying it
 * again changes nothing (alert.ts ignores what is not newer). Nothing is decided before the alert state, the
 * incidents, the maintenance windows and the topology are loaded.
 */
export const CONSUMER = 'faultline-correlator';

export interface CorrelatorOptions {
  config: Config;
  log: Logger;
  nats: NatsConnection;
  /** Loaded (the caller awaited its first reload). */
  topology: TopologyStore;
  clock?: () => number;
  /** Name of this process in logs and in the lease (default host:pid:random). */
  instance?: string;
}

export interface CorrelatorStats {
  events: number;
  invalid: number;
  /** Older than the state, or redelivered: changed nothing. */
  ignored: number;
  /** Milliseconds from receipt to the decision, per event, since the last `takeLatencies`. */
  latencies: number[];
}

export class Correlator {
  readonly stats: CorrelatorStats = { events: 0, invalid: 0, ignored: 0, latencies: [] };
  private messages: ConsumerMessages | undefined;
  private pending: { msg: JsMsg; at: number }[] = [];
  private flushing = false;
  private stopped = false;

  private constructor(
    readonly view: CorrelationView,
    private readonly lease: Lease,
    private readonly reconciler: Reconciler,
    private readonly options: Required<Pick<CorrelatorOptions, 'config' | 'log' | 'nats' | 'clock'>>,
  ) {}

  static async start(options: CorrelatorOptions): Promise<Correlator> {
    const { config, nats } = options;
    const clock = options.clock ?? Date.now;
    const log = options.log.child({ component: 'correlator' });
    const instance = options.instance ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const view = await CorrelationView.open(nats, options.topology, config.correlator, clock);
    const timers = await new Kvm(nats).open(KV_BUCKETS.timers);
    const reconciler = new Reconciler(nats, view, timers, config, log);
    const lease = new Lease(timers, instance, config.correlator.leaderLease, clock, log);
    const correlator = new Correlator(view, lease, reconciler, { config, log, nats, clock });

    lease.onChange((leader) => {
      if (leader) void reconciler.load().then(() => reconciler.schedule());
      else reconciler.stop();
    });
    view.onChange(() => {
      if (lease.leader) void reconciler.schedule();
    });
    await lease.start();
    await correlator.consume();
    log.info({ instance, alerts: view.alerts.size, incidents: view.incidents.size }, 'correlator started');
    return correlator;
  }

  get leader(): boolean {
    return this.lease.leader;
  }

  /** Latencies recorded since the last call. */
  takeLatencies(): number[] {
    const out = this.stats.latencies;
    this.stats.latencies = [];
    return out;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.messages?.stop();
    while (this.flushing) await new Promise((r) => setTimeout(r, 5));
    this.reconciler.stop();
    await this.lease.stop();
    this.view.stop();
  }

  private async consume(): Promise<void> {
    const { nats } = this.options;
    const jsm = await jetstreamManager(nats);
    const ackWait = this.options.config.correlator.ackWait * 1_000_000;
    const config = { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: ackWait, max_ack_pending: 20_000, filter_subject: SUBJECTS.eventsAll };
    await jsm.consumers.info(STREAMS.events.name, CONSUMER).then(
      () => jsm.consumers.update(STREAMS.events.name, CONSUMER, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending }),
      () => jsm.consumers.add(STREAMS.events.name, config),
    );
    const consumer = await jetstream(nats).consumers.get(STREAMS.events.name, CONSUMER);
    this.messages = await consumer.consume({
      max_messages: 2_000,
      callback: (msg) => {
        this.pending.push({ msg, at: performance.now() });
        if (!this.flushing) {
          this.flushing = true;
          setImmediate(() => void this.flushLoop());
        }
      },
    });
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.pending.length > 0 && !this.stopped) {
        const batch = this.pending;
        this.pending = [];
        await this.flush(batch);
      }
    } finally {
      this.flushing = false;
    }
  }

  /** One micro-batch: everything that arrived while the previous one was being stored. */
  private async flush(batch: { msg: JsMsg; at: number }[]): Promise<void> {
    const { log, nats } = this.options;
    const byAlert = new Map<string, { events: { event: AlertEvent; seq: number }[]; msgs: JsMsg[] }>();
    const done = new Set<JsMsg>();
    const dead: Promise<unknown>[] = [];
    for (const { msg } of batch) {
      this.stats.events++;
      const parsed = parseEventBytes(msg.data, { time: Math.floor(msg.info.timestampNanos / 1e6), source: msg.subject.split('.')[2] });
      if (!parsed.ok) {
        this.stats.invalid++;
        dead.push(this.deadLetter(msg, parsed.reason).then(() => msg.ack()));
        continue;
      }
      const id = alertId(parsed.event.host, parsed.event.check);
      let entry = byAlert.get(id);
      if (!entry) byAlert.set(id, (entry = { events: [], msgs: [] }));
      entry.events.push({ event: parsed.event, seq: msg.seq });
      entry.msgs.push(msg);
    }

    const stored = await Promise.allSettled(
      [...byAlert].map(async ([id, { events, msgs }]) => {
        await this.store(id, events);
        for (const msg of msgs) done.add(msg);
      }),
    );
    for (const s of stored) if (s.status === 'rejected') log.error({ err: s.reason }, 'storing alert state failed; the events will be redelivered');
    await Promise.allSettled(dead);
    for (const msg of done) msg.ack();
    // Events whose state could not be stored are not acknowledged: JetStream redelivers them after ack_wait.
    for (const [, { msgs }] of byAlert) for (const msg of msgs) if (!done.has(msg)) msg.nak(1_000);

    this.view.analysis();
    const decidedAt = performance.now();
    for (const { at } of batch) this.stats.latencies.push(decidedAt - at);
  }

  /** Applies one alert's events of this batch and stores the result, re-reading and re-applying on a conflict. */
  private async store(id: string, events: { event: AlertEvent; seq: number }[]): Promise<void> {
    const key = alertKey(id);
    const alerts = this.view.alerts;
    let known = alerts.get(key);
    for (let attempt = 0; attempt < 8; attempt++) {
      let record: AlertRecord | undefined = known?.value;
      let dirty = false;
      for (const { event, seq } of events) {
        const applied = applyEvent(record, event, seq);
        if (applied.effect === 'ignored') {
          this.stats.ignored++;
          continue;
        }
        record = applied.record;
        dirty = true;
      }
      if (!dirty || !record) return;
      try {
        await alerts.put(key, record, new TextEncoder().encode(JSON.stringify(record)), known?.revision);
        return;
      } catch (err) {
        if (!(err instanceof KvConflictError)) throw err;
        known = await alerts.fetch(key);
      }
    }
    throw new Error(`alert ${id}: state changed under 8 attempts in a row`);
  }

  private async deadLetter(msg: JsMsg, reason: string): Promise<void> {
    const text = new TextDecoder().decode(msg.data);
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // kept as text
    }
    const record: DeadEvent = { reason, subject: msg.subject, receivedAt: new Date(this.options.clock()).toISOString(), body };
    await jetstream(this.options.nats).publish(SUBJECTS.deadEvents, JSON.stringify(record), { msgID: `dead/${STREAMS.events.name}/${msg.seq}` });
    this.options.log.warn({ subject: msg.subject, seq: msg.seq, reason }, 'invalid event dead-lettered');
  }
}
