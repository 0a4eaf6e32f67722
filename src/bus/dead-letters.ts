import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from './nats.ts';
import { STREAMS, SUBJECTS } from './layout.ts';

/** One message of FAULTLINE_DEAD: where it sits in the stream, when it was stored, and its record. */
export interface DeadLetter {
  seq: number;
  subject: string;
  /** When JetStream stored it (ms). */
  storedAt: number;
  /** The record as JSON (a DeadEvent or a NotificationDeadLetter); the text when it is not JSON. */
  record: unknown;
}

export interface DeadLetterQuery {
  /** Only those stored at or after this time (ms). */
  since: number;
  /** `faultline.dead.events`, `faultline.dead.notifications`; all of them when absent. */
  subject?: string;
}

/**
 * How far back a read goes at most, in stream messages: a sender posting garbage all day leaves millions of dead
 * letters, and listing them must not read them all.
 */
export const DEAD_LETTERS_READ = 10_000;

/**
 * The dead letters stored since a time, oldest first, among the newest DEAD_LETTERS_READ of the stream
 * (`truncated` when older ones within the time were not read). Read with an ordered consumer up to the last
 * message the stream held when asked, so a flood of new dead letters meanwhile does not keep the reader going.
 */
export async function readDeadLetters(nc: NatsConnection, query: DeadLetterQuery): Promise<{ letters: DeadLetter[]; truncated: boolean }> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(STREAMS.dead.name);
  if (state.messages === 0 || Date.parse(state.last_ts) < query.since) return { letters: [], truncated: false };
  const last = state.last_seq;
  const floor = Math.max(state.first_seq, last - DEAD_LETTERS_READ + 1);
  const byTime = await read(nc, query, { deliver_policy: DeliverPolicy.StartTime, opt_start_time: new Date(query.since).toISOString() }, last, floor);
  if (byTime !== 'too far back') return { letters: byTime, truncated: false };
  const recent = await read(nc, query, { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: floor }, last, 0);
  return { letters: recent === 'too far back' ? [] : recent, truncated: true };
}

async function read(
  nc: NatsConnection,
  query: DeadLetterQuery,
  start: { deliver_policy: DeliverPolicy; opt_start_time?: string; opt_start_seq?: number },
  last: number,
  floor: number,
): Promise<DeadLetter[] | 'too far back'> {
  const consumer = await jetstream(nc).consumers.get(STREAMS.dead.name, {
    // One subject, given as a string: servers before 2.10 (Debian's 2.9) take no list.
    filter_subjects: query.subject ?? SUBJECTS.deadAll,
    ...start,
  });
  const out: DeadLetter[] = [];
  // Nothing of the subject from the start: the consumer would wait for the next one.
  if ((await consumer.info(true)).num_pending === 0) return out;
  const messages = await consumer.consume();
  try {
    for await (const m of messages) {
      if (m.seq > last) break;
      if (m.seq < floor) return 'too far back';
      let record: unknown;
      try {
        record = m.json();
      } catch {
        record = m.string();
      }
      out.push({ seq: m.seq, subject: m.subject, storedAt: m.time.getTime(), record });
      if (m.seq === last || m.info.pending === 0) break;
    }
  } finally {
    await messages.close();
  }
  return out;
}

/** Removes one dead letter, once what it held was put back (redelivered). False when it was gone already. */
export async function removeDeadLetter(nc: NatsConnection, seq: number): Promise<boolean> {
  const jsm = await jetstreamManager(nc);
  return jsm.streams.deleteMessage(STREAMS.dead.name, seq, false).catch((err: unknown) => {
    if (/no message found|not found/i.test((err as Error).message)) return false;
    throw err;
  });
}

/** What a dead letter is about, read from its record whatever wrote it (a DeadEvent or a NotificationDeadLetter). */
export interface DeadLetterSummary {
  kind: 'event' | 'notification';
  reason: string;
  /** Events: the endpoint or subject it came by. */
  via?: string;
  /** Events: `<host>/<check>`, when the body named both. */
  alert?: string;
  /** Notifications: the channel it failed on (none when no route took it). */
  channel?: string;
  notification?: { kind: string; team: string | null; incident: string; dedupKey: string; summary: string };
}

export function summarise(letter: DeadLetter): DeadLetterSummary {
  const r = isObject(letter.record) ? letter.record : {};
  const reason = typeof r.reason === 'string' ? r.reason : String(letter.record).slice(0, 200);
  if (letter.subject === SUBJECTS.deadNotifications) {
    const n = isObject(r.notification) ? r.notification : undefined;
    const incident = n && isObject(n.incident) ? n.incident : {};
    return {
      kind: 'notification',
      reason,
      ...(typeof r.channel === 'string' ? { channel: r.channel } : {}),
      ...(n
        ? {
            notification: {
              kind: String(n.kind),
              team: typeof n.team === 'string' ? n.team : null,
              incident: String(incident.id),
              dedupKey: String(n.dedupKey),
              summary: String(n.summary),
            },
          }
        : {}),
    };
  }
  const body = isObject(r.body) ? r.body : {};
  const via = typeof r.via === 'string' ? r.via : typeof r.subject === 'string' ? r.subject : undefined;
  return {
    kind: 'event',
    reason,
    ...(via ? { via } : {}),
    ...(typeof body.host === 'string' && typeof body.check === 'string' ? { alert: `${body.host}/${body.check}` } : {}),
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
