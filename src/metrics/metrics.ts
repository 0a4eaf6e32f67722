import { jetstreamManager, type MsgRequest } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { KV_BUCKETS, nameOfToken, STREAMS, SUBJECTS } from '../bus/layout.ts';
import type { CorrelationView } from '../correlator/view.ts';
import type { TopologyStore } from '../engine/store.ts';

/**
 * What faultline counts, for Prometheus (`GET /metrics`, design sections 6 and 7). One registry per process:
 * the correlator, the notifier and the API of one process report together. Counters are bumped where things
 * happen; gauges are read from the current state when Prometheus scrapes (`watch` says where from).
 * "Top 10 noisiest checks" is `topk(10, rate(faultline_check_events_total[1h]))`, or GraphQL `topChecks`.
 */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: 'faultline_' });

/**
 * Valid events are counted where they are handled, tens of thousands a second: as plain counts per label value
 * (`countEvent`), handed to the counters below when Prometheus scrapes. A labelled `inc` would hash its labels on
 * every event.
 */
const uncountedBySource = new Map<string, Map<string, number>>();
const uncountedByCheck = new Map<string, number>();

/** One valid event, by source, status and check. */
export function countEvent(source: string, status: string, check: string): void {
  let byStatus = uncountedBySource.get(source);
  if (!byStatus) uncountedBySource.set(source, (byStatus = new Map()));
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  uncountedByCheck.set(check, (uncountedByCheck.get(check) ?? 0) + 1);
}

export const eventsIn = new Counter({
  name: 'faultline_events_total',
  help: 'Valid events the correlator handled, by source and status.',
  labelNames: ['source', 'status'] as const,
  registers: [registry],
  collect() {
    for (const [source, byStatus] of uncountedBySource) for (const [status, n] of byStatus) this.inc({ source, status }, n);
    uncountedBySource.clear();
  },
});

export const eventsInvalid = new Counter({
  name: 'faultline_events_invalid_total',
  help: 'Events refused as invalid and dead-lettered on faultline.dead.events.',
  registers: [registry],
});

export const checkEvents = new Counter({
  name: 'faultline_check_events_total',
  help: 'Events per check name (the noisiest checks: topk over its rate).',
  labelNames: ['check'] as const,
  registers: [registry],
  collect() {
    for (const [check, n] of uncountedByCheck) this.inc({ check }, n);
    uncountedByCheck.clear();
  },
});

export const decisionSeconds = new Histogram({
  name: 'faultline_decision_seconds',
  help: 'From receipt of an event to the suppression decision on it.',
  buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

export const notifications = new Counter({
  name: 'faultline_notifications_total',
  help: 'Notification deliveries by channel, kind and outcome (delivered, skipped, retried, dead).',
  labelNames: ['channel', 'kind', 'outcome'] as const,
  registers: [registry],
});

interface Sources {
  view?: CorrelationView | undefined;
  topology?: TopologyStore | undefined;
  nats?: NatsConnection | undefined;
}

let sources: Sources = {};

/** Where the gauges read from in this process (the last call wins). */
export function watch(next: Sources): void {
  sources = { ...sources, ...next };
}

new Gauge({
  name: 'faultline_alerts',
  help: 'Alerts by what the correlator decided about them (ok, active, root, suppressed).',
  labelNames: ['verdict'] as const,
  registers: [registry],
  collect() {
    this.reset();
    const analysis = sources.view?.decide();
    if (!analysis) return;
    const counts: Record<string, number> = { ok: 0, active: 0, root: 0, suppressed: 0 };
    for (const d of analysis.decisions.values()) counts[d.verdict] = (counts[d.verdict] ?? 0) + 1;
    for (const [verdict, n] of Object.entries(counts)) this.set({ verdict }, n);
  },
});

new Gauge({
  name: 'faultline_kv_unreadable_entries',
  help: 'Keys of the alert, incident, maintenance and silence buckets whose newest value is not JSON, left out (written by hand?).',
  labelNames: ['bucket'] as const,
  registers: [registry],
  collect() {
    this.reset();
    const view = sources.view;
    if (!view) return;
    for (const [bucket, mirror] of [[KV_BUCKETS.alerts, view.alerts], [KV_BUCKETS.incidents, view.incidents], [KV_BUCKETS.maintenance, view.maintenance], [KV_BUCKETS.silences, view.silences]] as const) {
      this.set({ bucket }, mirror.unreadable.size);
    }
  },
});

new Gauge({
  name: 'faultline_silences_active',
  help: 'Silences in force now: alerts whose incidents page nobody (a forgotten one hides an outage).',
  registers: [registry],
  collect() {
    const view = sources.view;
    this.set(view ? view.activeSilences().size : 0);
  },
});

new Gauge({
  name: 'faultline_silenced_incidents',
  help: 'Incidents not resolved whose every root alert is silenced: nobody is being told of them.',
  registers: [registry],
  collect() {
    const view = sources.view;
    let n = 0;
    if (view) for (const { value } of view.incidents.values()) if (value.status !== 'resolved' && value.silencedBy) n++;
    this.set(n);
  },
});

new Gauge({
  name: 'faultline_suppressed_alerts',
  help: 'Suppressed alerts by reason (dependency, maintenance).',
  labelNames: ['reason'] as const,
  registers: [registry],
  collect() {
    this.reset();
    const analysis = sources.view?.decide();
    if (!analysis) return;
    const counts: Record<string, number> = { dependency: 0, maintenance: 0 };
    for (const d of analysis.decisions.values()) if (d.verdict === 'suppressed' && d.reason) counts[d.reason] = (counts[d.reason] ?? 0) + 1;
    for (const [reason, n] of Object.entries(counts)) this.set({ reason }, n);
  },
});

/** What one more failure would take down, over the incidents not resolved (each id once). */
for (const [name, help, field] of [
  ['faultline_services_at_risk', 'Services still up that one more failure would take down, over the incidents not resolved (a redundancy group they need has no spare left).', 'servicesAtRisk'],
  ['faultline_critical_at_risk', 'Hosts and resources marked critical, still up, that one more failure would take down, over the incidents not resolved.', 'criticalAtRisk'],
] as const) {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const view = sources.view;
      if (!view) return;
      const atRisk = new Set<string>();
      for (const { value } of view.incidents.values()) if (value.status !== 'resolved') for (const id of value[field] ?? []) atRisk.add(id);
      this.set(atRisk.size);
    },
  });
}

/** Incidents, and page storms apart (a storm is an incident standing for many: counted with them it would be one more). */
for (const [name, help, storms] of [
  ['faultline_incidents', 'Incidents by status (page storms apart: faultline_storms).', false],
  ['faultline_storms', 'Page storms by status: teams paged once for many root causes (notify.storm).', true],
] as const) {
  new Gauge({
    name,
    help,
    labelNames: ['status'] as const,
    registers: [registry],
    collect() {
      this.reset();
      const view = sources.view;
      if (!view) return;
      const counts: Record<string, number> = { open: 0, acknowledged: 0, resolved: 0 };
      for (const { value } of view.incidents.values()) if (Boolean(value.storm) === storms) counts[value.status] = (counts[value.status] ?? 0) + 1;
      for (const [status, n] of Object.entries(counts)) this.set({ status }, n);
    },
  });
}

new Gauge({
  name: 'faultline_topology_entities',
  help: 'Entities in the topology snapshot in use.',
  registers: [registry],
  collect() {
    const snapshot = sources.topology?.loaded;
    if (snapshot) this.set(snapshot.topology.size);
  },
});

new Gauge({
  name: 'faultline_topology_loaded_timestamp_seconds',
  help: 'When the topology snapshot in use was loaded.',
  registers: [registry],
  collect() {
    const snapshot = sources.topology?.loaded;
    if (snapshot) this.set(snapshot.loadedAt.getTime() / 1000);
  },
});

new Gauge({
  name: 'faultline_topology_from_cache',
  help: '1 while the topology snapshot in use is the copy kept in NATS (Neo4j did not answer when the process started), else 0.',
  registers: [registry],
  collect() {
    const snapshot = sources.topology?.loaded;
    if (snapshot) this.set(snapshot.source === 'cache' ? 1 : 0);
  },
});

new Gauge({
  name: 'faultline_topology_reload_failures',
  help: 'Reloads of the topology that failed in a row (0 once one succeeds); the snapshot in use is older than the graph.',
  registers: [registry],
  collect() {
    if (sources.topology) this.set(sources.topology.failing);
  },
});

new Gauge({
  name: 'faultline_outbox_pending',
  help: 'Notifications waiting in the outbox (stored, not yet delivered or dead-lettered).',
  registers: [registry],
  async collect() {
    const outbox = await readOutbox();
    if (outbox) this.set(outbox.messages);
  },
});

/**
 * Per channel (as configured), what waits in the outbox and since when. A channel whose receiver is down, or that
 * no running notifier serves, shows here long before its messages are dead-lettered: alert on
 * `faultline_outbox_oldest_age_seconds > 300`.
 */
new Gauge({
  name: 'faultline_outbox_channel_pending',
  help: 'Notifications waiting in the outbox, by channel.',
  labelNames: ['channel'] as const,
  registers: [registry],
  async collect() {
    const outbox = await readOutbox();
    this.reset();
    for (const { channel, pending } of outbox?.channels ?? []) this.set({ channel }, pending);
  },
});

new Gauge({
  name: 'faultline_outbox_oldest_age_seconds',
  help: 'How long the oldest notification still in the outbox has waited, by channel.',
  labelNames: ['channel'] as const,
  registers: [registry],
  async collect() {
    const outbox = await readOutbox();
    this.reset();
    for (const { channel, oldest } of outbox?.channels ?? []) if (oldest !== undefined) this.set({ channel }, Math.max(0, (Date.now() - oldest) / 1000));
  },
});

interface OutboxReading {
  messages: number;
  channels: { channel: string; pending: number; oldest: number | undefined }[];
}

/** The read the three outbox gauges share while one scrape collects them (prom-client collects them at once). */
let outboxReading: Promise<OutboxReading | undefined> | undefined;
const readOutbox = () => (outboxReading ??= readOutboxNow().finally(() => (outboxReading = undefined)));

/** The outbox's size, its subjects with their counts, and the time of each one's oldest message. */
async function readOutboxNow(): Promise<OutboxReading | undefined> {
  const nats = sources.nats;
  if (!nats) return undefined;
  const jsm = await jetstreamManager(nats).catch(() => undefined);
  const info = await jsm?.streams.info(STREAMS.outbox.name, { subjects_filter: SUBJECTS.outboxAll }).catch(() => undefined);
  if (!jsm || !info) return undefined;
  const prefix = SUBJECTS.outbox('');
  const channels = await Promise.all(
    Object.entries(info.state.subjects ?? {}).map(async ([subject, pending]) => {
      // The first message on the subject: the server's STREAM.MSG.GET takes next_by_subj (nats-server 2.9 and
      // later), which the client's type for this call does not list.
      const first = await jsm.streams
        .getMessage(STREAMS.outbox.name, { seq: info.state.first_seq, next_by_subj: subject } as unknown as MsgRequest)
        .catch(() => null);
      return { channel: nameOfToken(subject.slice(prefix.length)), pending, oldest: first ? first.time.getTime() : undefined };
    }),
  );
  return { messages: info.state.messages, channels };
}

new Gauge({
  name: 'faultline_correlator_lag_events',
  help: 'Events stored in FAULTLINE_EVENTS that the correlators have not finished (pending plus unacknowledged).',
  registers: [registry],
  async collect() {
    const nats = sources.nats;
    if (!nats) return;
    const info = await jetstreamManager(nats)
      .then((jsm) => jsm.consumers.info(STREAMS.events.name, 'faultline-correlator'))
      .catch(() => undefined);
    if (info) this.set(info.num_pending + info.num_ack_pending);
  },
});
