import { jetstreamManager, RetentionPolicy, StorageType, type StreamConfig } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { Objm } from '@nats-io/obj';
import { nanos, type NatsConnection } from '@nats-io/nats-core';

const EVENTS_PREFIX = 'faultline.events.';

/**
 * Every subject, stream and KV bucket faultline uses (design sections 6 and 7), declared once. `ensureLayout`
 * creates or updates them idempotently at start, so a fresh NATS needs no manual set-up.
 */
export const SUBJECTS = {
  /** faultline.events.<source>: monitoring events in. */
  events: (source: string) => `${EVENTS_PREFIX}${source}`,
  eventsAll: 'faultline.events.>',
  /** Invalid input, with the reason; never dropped silently. */
  deadEvents: 'faultline.dead.events',
  deadAll: 'faultline.dead.>',
  /** faultline.incidents.<id>.<change>: every change of an incident, the incident as it is after it. */
  incident: (id: string, change: string) => `faultline.incidents.${id}.${change}`,
  incidentsAll: 'faultline.incidents.>',
  outboxAll: 'faultline.outbox.>',
  /** faultline.outbox.<channel>: one notification for one configured channel (the name as a subject token). */
  outbox: (channel: string) => `faultline.outbox.${subjectToken(channel)}`,
  /** Notifications no route takes, invalid outbox messages and deliveries that failed for good, with the reason. */
  deadNotifications: 'faultline.dead.notifications',
  /** faultline.actions.<name>: an incident an action rule matched, for automation. */
  action: (name: string) => `faultline.actions.${name}`,
  actionsAll: 'faultline.actions.>',
  /** Core NATS (not stored): an import finished; engines reload the topology. */
  topologyChanged: 'faultline.topology.changed',
} as const;

/** The source an events subject names: `nagios` of `faultline.events.nagios`. */
export function eventSource(subject: string): string {
  const end = subject.indexOf('.', EVENTS_PREFIX.length);
  return subject.slice(EVENTS_PREFIX.length, end < 0 ? subject.length : end);
}

/**
 * A name as one valid subject token: [A-Za-z0-9_-] kept, every other UTF-8 byte as %XX. `%` itself is encoded,
 * so two names never share a token, and `.`, `*`, `>` and whitespace can never split or widen a subject.
 */
export function subjectToken(name: string): string {
  let token = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    token += /[A-Za-z0-9_-]/.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return token;
}

/** The name `subjectToken` made a token of. */
export function nameOfToken(token: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '%' && /^[0-9A-F]{2}$/.test(token.slice(i + 1, i + 3))) {
      bytes.push(parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  return Buffer.from(bytes).toString('utf8');
}

const DAY_MS = 86_400_000;

interface StreamSpec {
  name: string;
  subjects: string[];
  retention: RetentionPolicy;
  maxAgeMs: number;
  /** Window in which a repeated Nats-Msg-Id is dropped: the producer `id` de-duplication. */
  duplicateWindowMs: number;
}

export const STREAMS = {
  events: { name: 'FAULTLINE_EVENTS', subjects: [SUBJECTS.eventsAll], retention: RetentionPolicy.Limits, maxAgeMs: 7 * DAY_MS, duplicateWindowMs: 10 * 60_000 },
  dead: { name: 'FAULTLINE_DEAD', subjects: [SUBJECTS.deadAll], retention: RetentionPolicy.Limits, maxAgeMs: 30 * DAY_MS, duplicateWindowMs: 2 * 60_000 },
  incidents: { name: 'FAULTLINE_INCIDENTS', subjects: [SUBJECTS.incidentsAll], retention: RetentionPolicy.Limits, maxAgeMs: 90 * DAY_MS, duplicateWindowMs: 2 * 60_000 },
  // A work queue: each notification is delivered to one notifier and removed once acknowledged.
  outbox: { name: 'FAULTLINE_OUTBOX', subjects: [SUBJECTS.outboxAll], retention: RetentionPolicy.Workqueue, maxAgeMs: 7 * DAY_MS, duplicateWindowMs: 60 * 60_000 },
  actions: { name: 'FAULTLINE_ACTIONS', subjects: [SUBJECTS.actionsAll], retention: RetentionPolicy.Limits, maxAgeMs: 7 * DAY_MS, duplicateWindowMs: 10 * 60_000 },
} as const satisfies Record<string, StreamSpec>;

export const KV_BUCKETS = {
  /** Alert state per identity `<host>/<check>`, compare-and-set on revision. */
  alerts: 'faultline-alerts',
  incidents: 'faultline-incidents',
  maintenance: 'faultline-maintenance',
  /** Silences (correlator/silence.ts): alerts whose incidents page nobody while they last. */
  silences: 'faultline-silences',
  /** Heartbeat and settle-window deadlines, so timers survive a restart. */
  timers: 'faultline-timers',
} as const;

/** The last topology loaded from Neo4j, for a process that starts while Neo4j is unreachable (engine/cached.ts). */
export const OBJECT_STORES = { topology: 'faultline-topology' } as const;

export async function ensureLayout(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const spec of Object.values(STREAMS)) {
    const config: Partial<StreamConfig> & { name: string } = {
      name: spec.name,
      subjects: [...spec.subjects],
      retention: spec.retention,
      storage: StorageType.File,
      max_age: nanos(spec.maxAgeMs),
      duplicate_window: nanos(spec.duplicateWindowMs),
      num_replicas: 1,
    };
    const exists = await jsm.streams.info(spec.name).then(
      () => true,
      (err: unknown) => {
        if (isNotFound(err)) return false;
        throw err;
      },
    );
    if (exists) await jsm.streams.update(spec.name, config);
    else await jsm.streams.add(config);
  }
  const kvm = new Kvm(nc);
  for (const bucket of Object.values(KV_BUCKETS)) {
    await kvm.create(bucket, { history: 1 });
  }
  const objm = new Objm(nc);
  for (const bucket of Object.values(OBJECT_STORES)) await objm.create(bucket, { storage: StorageType.File });
}

function isNotFound(err: unknown): boolean {
  return err instanceof Error && (err.name === 'StreamNotFoundError' || /stream not found/i.test(err.message));
}
