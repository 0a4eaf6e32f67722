import { createHash } from 'node:crypto';
import { jetstream } from '@nats-io/jetstream';
import type { KV } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import { CasWriter } from '../bus/cas-writer.ts';
import { KV_BUCKETS, SUBJECTS } from '../bus/layout.ts';
import { KvConflictError } from '../bus/kv-mirror.ts';
import { DEFAULT_MAX_PAYLOAD, maxBytesOf } from '../bus/publish-event.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../log.ts';
import type { Notification } from '../notify/notification.ts';
import { enqueueNotification } from '../notify/outbox.ts';
import { downBecauseOf, type Analysis } from './analysis.ts';
import { glob } from './mapping.ts';
import { extendTimeline, firstFitting, jsonBytes, NOTES_LIMIT, publishIncidentChange, type Incident } from './incident.ts';
import { planIncidents, type IncidentWrite } from './plan.ts';
import type { CorrelationView } from './view.ts';

/**
 * Carries out plan.ts on the current analysis, on the correlator that holds the lease: notifications are
 * enqueued first (each stored in the outbox under its dedup key), then incidents written with compare-and-set,
 * then the change published on `faultline.incidents.<id>.<change>`. A crash between the steps repeats the plan
 * on the next leader, which enqueues the same dedup keys (dropped by the outbox) and writes the same incidents.
 *
 * When a root unit was first seen as a root (the start of its settle window) is kept in the KV bucket
 * `faultline-timers` too, so a new leader resumes the windows rather than starting them again.
 */
export class Reconciler {
  private rootSeen = new Map<string, number>();
  /** The settle windows are read (`lead`): before that a run would start them all again, and store that. */
  private loaded = false;
  /** Counts `lead` and `stop` calls: a read of the windows that a stop overtook is dropped. */
  private epoch = 0;
  private running: Promise<void> | undefined;
  private pending: NodeJS.Timeout | undefined;
  private again = false;
  private last = { end: 0, took: 0 };
  private wake: NodeJS.Timeout | undefined;
  /** Writes the settle windows (many a second in an outage): pipelined, not a request each. */
  private writer: CasWriter | undefined;

  constructor(
    private readonly nats: NatsConnection,
    private readonly view: CorrelationView,
    private readonly timers: KV,
    private readonly config: Config,
    private readonly log: Logger,
  ) {}

  /**
   * This correlator now decides (it holds the lease): the settle windows in progress are read, then it runs. A
   * failed read is tried again every second; nothing is planned until one succeeds.
   */
  lead(): void {
    const epoch = ++this.epoch;
    this.loadWindows().then(
      (seen) => {
        if (epoch !== this.epoch) return;
        this.rootSeen = seen;
        this.loaded = true;
        this.schedule();
      },
      (err: unknown) => {
        if (epoch !== this.epoch) return;
        this.log.error({ err }, 'reading the settle windows failed; trying again in 1 s');
        clearTimeout(this.wake);
        this.wake = setTimeout(() => this.lead(), 1_000);
      },
    );
  }

  private async loadWindows(): Promise<Map<string, number>> {
    await this.running;
    const seen = new Map<string, number>();
    const keys = await this.timers.keys('root.>');
    for await (const key of keys) {
      const e = await this.timers.get(key);
      if (e?.operation !== 'PUT') continue;
      const { unit, at } = e.json<{ unit: string; at: number }>();
      seen.set(unit, at);
    }
    return seen;
  }

  /**
   * Runs soon: at most one run at a time, and the next no sooner after the last one ended than twice what it took
   * (and 100 ms). Incidents wait a settle window of seconds anyway; the correlator's own decisions must not.
   */
  schedule(): void {
    if (this.pending || !this.loaded) return;
    const gap = Math.max(MIN_GAP_MS, 2 * this.last.took);
    this.pending = setTimeout(() => this.runNow(), Math.max(0, this.last.end + gap - performance.now()));
  }

  private runNow(): void {
    this.pending = undefined;
    if (this.running) {
      this.again = true;
      return;
    }
    const start = performance.now();
    this.running = this.run()
      .catch((err: unknown) => {
        this.log.error({ err }, 'deciding incidents failed; trying again shortly');
        this.wakeAt(this.view.clock() + 1_000);
      })
      .finally(() => {
        this.running = undefined;
        const end = performance.now();
        this.last = { end, took: end - start };
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
  }

  stop(): void {
    clearTimeout(this.wake);
    clearTimeout(this.pending);
    this.pending = undefined;
    this.loaded = false;
    this.epoch++;
  }

  private async run(): Promise<void> {
    const now = this.view.clock();
    const stored = [...this.view.incidents.values()];
    const open = stored.map((e) => e.value).filter((i) => i.status !== 'resolved');
    // The revisions the plan is made from: a write compares against these, so an acknowledgement that lands
    // while the plan waits for the outbox is a conflict, merged in, and not overwritten.
    const planned = new Map(stored.map((e) => [e.value.id, e.revision]));
    const analysis = this.view.latest();
    const plan = planIncidents({
      analysis,
      open,
      alerts: this.view.records(),
      known: (id) => this.view.incidents.get(id) !== undefined,
      rootSeen: this.rootSeen,
      now,
      settleMs: this.config.correlator.settle,
      flapping: this.config.correlator.flapping ? { changes: this.config.correlator.flapping.changes, windowMs: this.config.correlator.flapping.window } : undefined,
      remindMs: this.config.notify.remind === false ? undefined : this.config.notify.remind,
      storm: this.config.notify.storm === false ? undefined : { pages: this.config.notify.storm.pages, windowMs: this.config.notify.storm.window },
      silences: this.view.silenceList(),
      messageBytes: this.maxMessageBytes() - MESSAGE_ROOM,
    });
    this.keepRootSeen(plan.rootSeen);
    for (const { incident, reason } of plan.unwritable) this.log.error({ incident }, `incident not stored: ${reason}; raise the NATS server's max_payload (1 MiB by default)`);

    const routed = await this.enqueue(plan.notifications);
    plan.notifications.forEach((n, i) => {
      const fields = { kind: n.kind, team: n.team, incident: n.incident.id, dedupKey: n.dedupKey };
      const { channels } = routed[i]!;
      if (channels.length > 0) this.log.info({ ...fields, channels }, 'notification enqueued');
      else this.log.warn(fields, 'no route takes the notification: dead-lettered (faultline.dead.notifications)');
    });
    await Promise.all(plan.writes.map((w) => this.write(w, planned.get(w.incident.id))));
    // A storm is no root cause of its own: its members' actions were published as they opened.
    await Promise.all(plan.writes.filter((w) => w.change === 'opened' && !w.incident.storm).map((w) => this.act(w.incident, analysis)));

    const next = Math.min(plan.wakeAt ?? Infinity, this.view.nextStartOrEnd() ?? Infinity);
    if (next < Infinity) this.wakeAt(next);
  }

  /**
   * Stores the plan's notifications in the outbox, pages first (the plan puts them first), and the rest a few at
   * a time: encoding the dozens of stakeholder notices of a large outage at once would hold the event loop, and
   * this process's own notifier would not deliver the page meanwhile.
   */
  private async enqueue(notifications: Notification[]): Promise<{ channels: string[] }[]> {
    const one = (n: Notification) => enqueueNotification(this.nats, this.config.notify, n, this.view.clock);
    const pages = notifications.filter((n) => n.kind === 'page').length;
    const routed = await Promise.all(notifications.slice(0, pages).map(one));
    let next = pages;
    const lane = async () => {
      while (next < notifications.length) {
        const i = next++;
        routed[i] = await one(notifications[i]!);
      }
    };
    await Promise.all(Array.from({ length: ENQUEUE_LANES }, lane));
    return routed;
  }

  private async write(write: IncidentWrite, planned: number | undefined): Promise<void> {
    const next = await storeIncident(this.view, write, planned);
    if (write.quiet) return;
    await publishIncidentChange(this.nats, next, write.change);
    this.log.info({ incident: next.id, change: write.change, root: next.root }, `incident ${write.change}`);
  }

  /** The largest message the server takes. */
  private maxMessageBytes(): number {
    return maxBytesOf(this.nats).maxBytes ?? DEFAULT_MAX_PAYLOAD;
  }

  /**
   * The configured actions whose `when.root` matches a root entity of a newly opened incident: published on
   * `faultline.actions.<name>` with the incident and the matching entities it takes down, once per incident
   * (the message id is the incident's and the action's).
   */
  private async act(incident: Incident, analysis: Analysis): Promise<void> {
    const t = analysis.topology;
    for (const action of this.config.actions) {
      const root = glob(action.when.root);
      if (!incident.root.some((id) => root.test(id))) continue;
      const indexes = incident.root.map((id) => t.indexOf(id)).filter((v): v is number => v !== undefined);
      const selector = glob(action.dependents);
      const taken = downBecauseOf(analysis, { indexes });
      const dependents = t.idsOf(taken).filter((id) => !incident.root.includes(id) && selector.test(id)).sort();
      // Automation acts on every dependent: a list too long for one message goes in parts, each once.
      const room = this.maxMessageBytes() - MESSAGE_ROOM - jsonBytes(incident);
      const parts = inParts(dependents, Math.max(room, 4 * 1024));
      for (const [i, part] of parts.entries()) {
        const body = { action: action.name, incident, dependents: part, ...(parts.length > 1 ? { part: i + 1, parts: parts.length } : {}) };
        await jetstream(this.nats).publish(SUBJECTS.action(action.name), JSON.stringify(body), { msgID: `${incident.id}/${action.name}${parts.length > 1 ? `/${i + 1}` : ''}` });
      }
      this.log.info({ action: action.name, incident: incident.id, dependents: dependents.length, parts: parts.length }, 'action published');
    }
  }

  private keepRootSeen(next: Map<string, number>): void {
    const writer = (this.writer ??= new CasWriter(this.nats));
    for (const [unit, at] of next) {
      if (this.rootSeen.get(unit) !== at) void writer.put(rootSubject(unit), utf8Encoder.encode(JSON.stringify({ unit, at }))).catch(() => undefined);
    }
    for (const unit of this.rootSeen.keys()) {
      if (!next.has(unit)) void writer.delete(rootSubject(unit)).catch(() => undefined);
    }
    this.rootSeen = next;
  }

  private wakeAt(at: number): void {
    clearTimeout(this.wake);
    // Capped: node runs a longer timer (over 24.8 days, a month-long window's end) after 1 ms, and the planner
    // would run again and again until then. Waking early only plans once more, which finds nothing due.
    this.wake = setTimeout(() => void this.schedule(), Math.min(MAX_WAKE_MS, Math.max(0, at - this.view.clock()) + 5));
  }
}

/**
 * Stores a planned incident, compare-and-set against `planned`, the revision the plan was made from (undefined:
 * a new incident). Someone else's write since (the API acknowledging it) is a conflict: it is read, and what they
 * wrote kept (`merge`). Returns what was stored.
 */
export async function storeIncident(view: Pick<CorrelationView, 'incidents'>, { incident, change }: IncidentWrite, planned: number | undefined): Promise<Incident> {
  let next = incident;
  let expected = planned;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await view.incidents.put(incident.id, next, expected);
      return next;
    } catch (err) {
      if (!(err instanceof KvConflictError)) throw err;
      const fresh = await view.incidents.fetch(incident.id);
      expected = fresh?.revision;
      if (fresh) next = merge(next, fresh.value);
    }
  }
  throw new Error(`incident ${incident.id}: could not store the ${change} after 5 conflicting writes`);
}

/** Someone else (the API acknowledging it, or writing a note) wrote the incident meanwhile: keep what they wrote. */
export function merge(ours: Incident, theirs: Incident): Incident {
  const next = { ...ours };
  if (theirs.status === 'acknowledged' && ours.status === 'open') next.status = 'acknowledged';
  if (theirs.acknowledgedAt !== undefined) {
    next.acknowledgedAt = theirs.acknowledgedAt;
    if (theirs.acknowledgedBy !== undefined) next.acknowledgedBy = theirs.acknowledgedBy;
  }
  if (theirs.acknowledgementTold) next.acknowledgementTold = true;
  if (theirs.notes?.length) {
    // Notes are only added (by the API) and marked told (by the leader): by number, told when either says so.
    const byNumber = new Map((ours.notes ?? []).map((n) => [n.n, n]));
    for (const n of theirs.notes) byNumber.set(n.n, { ...n, ...(n.told || byNumber.get(n.n)?.told ? { told: true } : {}) });
    next.notes = [...byNumber.values()].sort((a, b) => a.n - b.n).slice(-NOTES_LIMIT);
  }
  const entries = new Map([...theirs.timeline, ...ours.timeline].map((e) => [`${e.at}|${e.change}|${e.text}`, e]));
  next.timeline = extendTimeline([...entries.values()].sort((a, b) => a.at - b.at));
  return next;
}

/** Ids in order, in lists that each fit in `bytes` as JSON (at least one list, and one id in each). */
export function inParts(ids: readonly string[], bytes: number): string[][] {
  const parts: string[][] = [];
  let at = 0;
  do {
    const part = firstFitting(ids.slice(at), bytes);
    const taken = part.length > 0 ? part : ids.slice(at, at + 1);
    parts.push(taken);
    at += taken.length;
  } while (at < ids.length);
  return parts;
}

const MIN_GAP_MS = 100;
/** What a message needs beside its body: headers (message id, KV's) and the outbox's envelope. */
const MESSAGE_ROOM = 4 * 1024;
/** Notifications other than pages stored in the outbox at once. */
const ENQUEUE_LANES = 4;
/** The longest the reconciler sleeps before it plans again, whatever is due later. */
const MAX_WAKE_MS = 3_600_000;

/** The KV subject of a unit's settle window: `root.<hash>` in faultline-timers (`load` reads `root.>`). */
const rootSubject = (unit: string) => `$KV.${KV_BUCKETS.timers}.root.${createHash('sha256').update(unit).digest('hex').slice(0, 32)}`;
const utf8Encoder = new TextEncoder();


