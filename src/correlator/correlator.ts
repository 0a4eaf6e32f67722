import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { AckPolicy, jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventSource, KV_BUCKETS, STREAMS, SUBJECTS } from '../bus/layout.ts';
import { KvConflictError, type Versioned } from '../bus/kv-mirror.ts';
import { replySubject, streamSequence, storedAtMs } from '../bus/delivery.ts';
import { deadLetterEvent } from '../bus/publish-event.ts';
import type { Config } from '../config/schema.ts';
import type { TopologyStore } from '../engine/store.ts';
import type { Logger } from '../log.ts';
import { alertKey, applyEvent, takeRefresh, type AlertRecord } from './alert.ts';
import { alertId, parseEventBytes, SEVERITY_RANK, type AlertEvent, type DeadEvent } from './event.ts';
import { countEvent, decisionSeconds, eventsInvalid, watch } from '../metrics/metrics.ts';
import type { Analysis } from './analysis.ts';
import { Heartbeats } from './heartbeats.ts';
import { Housekeeping } from './housekeeping.ts';
import { Lease } from './lease.ts';
import { notesToTell } from './notes.ts';
import { Reconciler } from './reconciler.ts';
import { CorrelationView } from './view.ts';

/**
 * The correlator (design sections 5 and 6), as stages each event goes through:
 *   validate (invalid → faultline.dead.events) → update alert state (KV, compare-and-set) → acknowledge →
 *   decide (analysis.ts) → incidents and notifications (reconciler.ts, on the lease holder only).
 * Events are read from the durable consumer `faultline-correlator`, which every correlator process shares; a
 * message is acknowledged only once the state it produced is stored, so a crash redelivers it, and applying it
 * again changes nothing (alert.ts ignores what is not newer). Nothing is decided before the alert state, the
 * incidents, the maintenance windows and the topology are loaded.
 */
export const CONSUMER = 'faultline-correlator';

/** How often refreshes kept in memory are stored (see `store`). */
const REFRESH_PERSIST_MS = 5_000;
/**
 * Events delivered and not yet acknowledged, per correlator. Under a backlog an event waits behind about this many
 * (Little's law): 250 keeps a change's decision within tens of milliseconds at 20,000-30,000 events/s, and more
 * buys little throughput (docs/benchmarks.md).
 */
export const MAX_IN_FLIGHT = 250;
/** Refreshes stored at once: small, so that a status change's write never queues behind many of them. */
const REFRESH_CHUNK = 50;

/** A refresh kept in memory: its event, and the revision of the state it was applied to. */
interface PendingRefresh {
  event: AlertEvent;
  seq: number;
  revision: number;
}

/** What applying an event in memory left to do: nothing, or a write (`quiet`: see `isQuiet`). */
type InMemory = { effect: 'ignored' | 'refreshed' } | { effect: 'changed'; record: AlertRecord; revision: number | undefined; quiet: boolean };

export interface CorrelatorOptions {
  config: Config;
  log: Logger;
  nats: NatsConnection;
  /** Loaded (the caller awaited its first reload). */
  topology: TopologyStore;
  clock?: () => number;
  /** Name of this process in logs and in the lease (default host:pid:random). */
  instance?: string;
  /** How often refreshes kept in memory are stored (default 5 s); a ttl runs out this much late. Tests shorten it. */
  refreshPersistMs?: number;
  /**
   * Keep each event's decision latency for `takeLatencies` (the benchmark reads them). Off by default: a process
   * that runs for weeks would keep one number per event; `faultline_decision_seconds` counts them either way.
   */
  recordLatencies?: boolean;
}

export interface CorrelatorStats {
  events: number;
  invalid: number;
  /** Older than the state, or redelivered: changed nothing. */
  ignored: number;
  /** Milliseconds from receipt to the decision, per event, since the last `takeLatencies` (with `recordLatencies`). */
  latencies: number[];
  /** Analyses run, and the milliseconds they took in all. */
  analyses: number;
  analysisMs: number;
}

export class Correlator {
  readonly stats: CorrelatorStats = { events: 0, invalid: 0, ignored: 0, latencies: [], analyses: 0, analysisMs: 0 };
  private messages: ConsumerMessages | undefined;
  /** The last write in flight per alert id: the next event of that alert waits for it. */
  private readonly chains = new Map<string, Promise<void>>();
  private readonly inflight = new Set<Promise<unknown>>();
  private stopped = false;
  /** Receipt times of events whose batch changed what decisions read: decided by the next analysis. */
  private undecided: number[] = [];
  private decision: NodeJS.Timeout | undefined;
  private lastDecision = { end: 0, took: 0 };
  private lastAnalysis: Analysis | undefined;
  private elsewhere = false;
  /** Refreshes (time only) not stored yet, by alert key; written together every REFRESH_PERSIST_MS. */
  private readonly refreshed = new Map<string, PendingRefresh>();
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly failingRank: number;

  private constructor(
    readonly view: CorrelationView,
    private readonly lease: Lease,
    private readonly reconciler: Reconciler,
    private readonly heartbeats: Heartbeats,
    readonly housekeeping: Housekeeping,
    private readonly options: Required<Pick<CorrelatorOptions, 'config' | 'log' | 'nats' | 'clock' | 'refreshPersistMs' | 'recordLatencies'>>,
  ) {
    this.failingRank = SEVERITY_RANK[options.config.correlator.threshold];
  }

  static async start(options: CorrelatorOptions): Promise<Correlator> {
    const { config, nats } = options;
    const clock = options.clock ?? Date.now;
    const log = options.log.child({ component: 'correlator' });
    const instance = options.instance ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
    const view = await CorrelationView.open(nats, options.topology, config.correlator, clock);
    const timers = await new Kvm(nats).open(KV_BUCKETS.timers);
    const reconciler = new Reconciler(nats, view, timers, config, log);
    const lease = new Lease(timers, instance, config.correlator.leaderLease, clock, log);
    const refreshPersistMs = options.refreshPersistMs ?? REFRESH_PERSIST_MS;
    const heartbeats = new Heartbeats(view, () => lease.leader, refreshPersistMs, log);
    const housekeeping = new Housekeeping(view, () => lease.leader, config.correlator.retention, log);
    const recordLatencies = options.recordLatencies ?? false;
    const correlator = new Correlator(view, lease, reconciler, heartbeats, housekeeping, { config, log, nats, clock, refreshPersistMs, recordLatencies });

    lease.onChange((leader) => {
      if (leader) {
        reconciler.lead();
        void housekeeping.sweep();
      } else reconciler.stop();
    });
    // Other correlators' writes, acknowledgements, windows, a new topology: decide again. Deferred a turn, so that
    // this correlator's own writes are decided with the events that caused them (see `handle`).
    view.onChange(() => correlator.changedElsewhere());
    view.alerts.onChange((key, entry) => correlator.rebase(key, entry));
    // An acknowledgement or a note changes no analysis, but the incident's teams are to be told of it (plan.ts).
    view.incidents.onChange((_, entry) => {
      if (!lease.leader || !entry || entry.value.status === 'resolved') return;
      if ((entry.value.status === 'acknowledged' && !entry.value.acknowledgementTold) || notesToTell(entry.value).length > 0) reconciler.schedule();
    });
    // A silence that begins or ends changes whom incidents tell, not a verdict: plan again.
    view.silences.onChange(() => {
      if (lease.leader) reconciler.schedule();
    });
    watch({ view, topology: options.topology, nats });
    await lease.start();
    heartbeats.start();
    housekeeping.start();
    // The first analysis of the loaded state (the one that costs most: LiveRoots starts from nothing) runs before
    // the first event arrives, not while events wait behind it.
    correlator.requestDecision();
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
    await Promise.allSettled([...this.chains.values(), ...this.inflight]);
    clearTimeout(this.decision);
    clearInterval(this.refreshTimer);
    this.heartbeats.stop();
    this.housekeeping.stop();
    await this.persistRefreshes();
    this.reconciler.stop();
    await this.lease.stop();
    this.view.stop();
  }

  private async consume(): Promise<void> {
    const { nats } = this.options;
    const jsm = await jetstreamManager(nats);
    const ackWait = this.options.config.correlator.ackWait * 1_000_000;
    const config = { durable_name: CONSUMER, ack_policy: AckPolicy.Explicit, ack_wait: ackWait, max_ack_pending: MAX_IN_FLIGHT, filter_subject: SUBJECTS.eventsAll };
    await jsm.consumers.info(STREAMS.events.name, CONSUMER).then(
      () => jsm.consumers.update(STREAMS.events.name, CONSUMER, { ack_wait: config.ack_wait, max_ack_pending: config.max_ack_pending }),
      () => jsm.consumers.add(STREAMS.events.name, config),
    );
    const consumer = await jetstream(nats).consumers.get(STREAMS.events.name, CONSUMER);
    this.messages = await consumer.consume({
      max_messages: MAX_IN_FLIGHT / 2,
      callback: (msg) => this.handle(msg, performance.now()),
    });
  }

  /**
   * One event, as it arrives: validate, apply, store, acknowledge. Events of one alert are chained (one write at a
   * time per alert in this process, in arrival order); events of different alerts overlap, so nothing waits for a
   * batch to finish. A change of what decisions read asks for a decision; a refresh is decided as it stands.
   */
  private handle(msg: JsMsg, at: number): void {
    if (this.stopped) return; // not acknowledged: redelivered to whoever consumes next
    this.stats.events++;
    const reply = replySubject(msg);
    const seq = streamSequence(reply);
    const parsed = parseEventBytes(msg.data, { time: storedAtMs(reply), source: eventSource(msg.subject) });
    if (!parsed.ok) {
      this.stats.invalid++;
      eventsInvalid.inc();
      this.track(
        this.deadLetter(msg, parsed.reason).then(
          () => {
            msg.ack();
            this.decided(performance.now() - at);
          },
          (err: unknown) => {
            this.options.log.error({ err }, 'dead-lettering failed; the event will be redelivered');
            msg.nak(1_000);
          },
        ),
      );
      return;
    }
    const { event } = parsed;
    countEvent(event.source, event.status, event.check);
    const id = alertId(event.host, event.check);
    const key = alertKey(id);
    // Nothing of this alert in flight: applied now, and a refresh or an old event is settled without a write.
    const first = this.chains.has(id) ? undefined : this.applyInMemory(key, event, seq);
    if (first && first.effect !== 'changed') {
      msg.ack();
      this.decided(performance.now() - at);
      return;
    }
    this.chained(id, () => this.store(id, key, event, seq, first)).then(
      (effect) => {
        msg.ack();
        // A quiet change is decided now (its verdict is ok whatever the graph says); the analysis still takes it in.
        if (effect === 'changed') this.undecided.push(at);
        else this.decided(performance.now() - at);
        if (effect === 'changed' || effect === 'quiet') this.requestDecision();
      },
      (err: unknown) => {
        // Not acknowledged: JetStream redelivers it, and applying it again changes nothing that is newer.
        this.options.log.error({ err, alert: id }, 'storing alert state failed; the event will be redelivered');
        msg.nak(1_000);
      },
    );
  }

  /** Runs `work` once what this process has in flight for alert `id` is done: one write at a time per alert, in order. */
  private chained<T>(id: string, work: () => Promise<T>): Promise<T> {
    const done = (this.chains.get(id) ?? Promise.resolve()).then(work);
    const tail: Promise<void> = done.then(
      () => this.unchain(id, tail),
      () => this.unchain(id, tail),
    );
    this.chains.set(id, tail);
    return done;
  }

  private unchain(id: string, tail: Promise<void>): void {
    if (this.chains.get(id) === tail) this.chains.delete(id);
  }

  /**
   * Another writer's state (another correlator, the heartbeats) landed on an alert with a refresh kept in memory:
   * the refresh's event is applied again on top of it. Without this a refresh acknowledged on a state this process
   * had not yet seen replaced would be lost, and with it a status the newest event gave (a change elsewhere, then
   * an event here that only looked like a refresh).
   */
  private rebase(key: string, entry: Versioned<AlertRecord> | undefined): void {
    const pending = this.refreshed.get(key);
    if (this.stopped || !pending || entry?.revision === pending.revision) return;
    this.refreshed.delete(key);
    // Deleted (faultline never deletes an alert; an operator may): the refresh goes with it, the next event is new.
    if (!entry || applyEvent(entry.value, pending.event, pending.seq).effect === 'ignored') return;
    const id = entry.value.id;
    this.track(
      this.chained(id, () => this.store(id, key, pending.event, pending.seq)).then(
        (effect) => {
          if (effect === 'changed' || effect === 'quiet') this.requestDecision();
        },
        (err: unknown) => this.options.log.error({ err, alert: id }, 'storing a refresh again over another write failed'),
      ),
    );
  }

  /** Work a clean stop waits for. */
  private track(work: Promise<unknown>): void {
    this.inflight.add(work);
    void work.finally(() => this.inflight.delete(work));
  }

  private decided(ms: number): void {
    if (this.options.recordLatencies) this.stats.latencies.push(ms);
    decisionSeconds.observe(ms / 1000);
  }

  /**
   * Decides (analysis, then incidents on the lease holder) soon, at most half the time: the next analysis starts no
   * sooner after the last one ended than the last one took. Under a burst many batches share one analysis; alone,
   * an event is decided at once.
   */
  requestDecision(): void {
    if (this.stopped) return;
    const due = this.lastDecision.end + this.lastDecision.took;
    if (performance.now() >= due) {
      // Due already: decide here rather than behind a timer a busy event loop would run late.
      clearTimeout(this.decision);
      this.decision = undefined;
      this.decideNow();
      return;
    }
    this.decision ??= setTimeout(() => {
      this.decision = undefined;
      this.decideNow();
    }, due - performance.now());
  }

  private decideNow(): void {
    const start = performance.now();
    const waiting = this.undecided;
    this.undecided = [];
    let analysis: Analysis | undefined;
    try {
      analysis = this.view.decide();
    } catch (err) {
      this.options.log.error({ err }, 'analysis failed');
    }
    const end = performance.now();
    for (const at of waiting) this.decided(end - at);
    if (analysis === this.lastAnalysis) return; // nothing had changed: no analysis ran
    this.lastAnalysis = analysis;
    this.lastDecision = { end, took: end - start };
    this.stats.analyses++;
    this.stats.analysisMs += end - start;
    if (this.lease.leader) this.reconciler.schedule();
  }

  /** Something changed that this process did not write itself (or a topology, window or incident changed). */
  changedElsewhere(): void {
    if (this.elsewhere) return;
    this.elsewhere = true;
    setImmediate(() => {
      this.elsewhere = false;
      this.requestDecision();
    });
  }

  /**
   * Applies one event to its alert's state in memory. An event older than the state changes nothing; a refresh (the
   * same state again, only its time newer) is kept in memory and stored with the others every few seconds (writing
   * every refresh would cap the correlator at the bucket's write rate for no decision's sake); a change of anything
   * a decision reads (status, text, tags, mapping) is handed back, to be stored.
   */
  private applyInMemory(key: string, event: AlertEvent, seq: number): InMemory {
    const current = this.view.alerts.get(key);
    const applied = applyEvent(current?.value, event, seq);
    if (applied.effect === 'ignored') {
      this.stats.ignored++;
      return { effect: 'ignored' };
    }
    if (applied.effect === 'refreshed') {
      const known = current!; // only a state there is can be repeated
      takeRefresh(known.value, event, seq);
      const pending = this.refreshed.get(key);
      if (!pending) this.refreshed.set(key, { event, seq, revision: known.revision });
      else {
        pending.event = event;
        pending.seq = seq;
        pending.revision = known.revision;
      }
      this.refreshTimer ??= setInterval(() => void this.persistRefreshes(), this.options.refreshPersistMs);
      return { effect: 'refreshed' };
    }
    return { effect: 'changed', record: applied.record, revision: current?.revision, quiet: this.isQuiet(applied.record, current?.value) };
  }

  /**
   * A change no verdict depends on but its own, which is ok: the alert is ok now and was not failing before, so it
   * changes neither what is down nor any unit (a recovery does, and is not quiet).
   */
  private isQuiet(record: AlertRecord, previous: AlertRecord | undefined): boolean {
    return record.status === 'ok' && (!previous || SEVERITY_RANK[previous.status] < this.failingRank);
  }

  /**
   * Applies one event to its alert (`first`: already applied) and stores a change, compare-and-set, re-reading and
   * re-applying on a conflict; the message is acknowledged after.
   */
  private async store(id: string, key: string, event: AlertEvent, seq: number, first?: InMemory): Promise<InMemory['effect'] | 'quiet'> {
    let next = first ?? this.applyInMemory(key, event, seq);
    for (let attempt = 0; attempt < 8; attempt++) {
      if (next.effect !== 'changed') return next.effect;
      try {
        await this.view.alerts.put(key, next.record, next.revision);
        return next.quiet ? 'quiet' : 'changed';
      } catch (err) {
        if (!(err instanceof KvConflictError)) throw err;
        await this.view.alerts.fetch(key);
        next = this.applyInMemory(key, event, seq);
      }
    }
    throw new Error(`alert ${id}: state changed under 8 attempts in a row`);
  }

  /**
   * Stores the refreshes kept in memory, a few dozen at a time so that events keep flowing between them. A
   * refresh leaves the list once stored (`put` tells `rebase`, which finds it in the copy just written). A conflict
   * means another writer stored a newer state: it is read, and `rebase` applies the refresh over it.
   */
  private async persistRefreshes(): Promise<void> {
    const pending = [...this.refreshed.keys()];
    for (let i = 0; i < pending.length; i += REFRESH_CHUNK) {
      await Promise.allSettled(
        pending.slice(i, i + REFRESH_CHUNK).map(async (key) => {
          const entry = this.view.alerts.get(key);
          if (!entry || !this.refreshed.has(key)) return;
          try {
            // A copy: a refresh arriving while this is written goes into the record in memory (takeRefresh), and the
            // copy the bucket now holds must not seem to include it, or `rebase` would drop it.
            await this.view.alerts.put(key, { ...entry.value }, entry.revision);
          } catch (err) {
            if (err instanceof KvConflictError) await this.view.alerts.fetch(key);
            else this.options.log.warn({ err, key }, 'storing a refresh failed; it is tried again with the next ones');
          }
        }),
      );
    }
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
    // One dead letter per stored event, however often a crash makes it come back.
    await deadLetterEvent(this.options.nats, record, { msgID: `dead/${STREAMS.events.name}/${msg.seq}` });
    this.options.log.warn({ subject: msg.subject, seq: msg.seq, reason }, 'invalid event dead-lettered');
  }
}
