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
 * The dead letters stored since a time, oldest first. Read with an ordered consumer up to the last message the
 * stream held when asked, so a flood of new dead letters meanwhile does not keep the reader going.
 */
export async function readDeadLetters(nc: NatsConnection, query: DeadLetterQuery): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(nc);
  const { state } = await jsm.streams.info(STREAMS.dead.name);
  if (state.messages === 0 || Date.parse(state.last_ts) < query.since) return [];
  const last = state.last_seq;
  const consumer = await jetstream(nc).consumers.get(STREAMS.dead.name, {
    // One subject, given as a string: servers before 2.10 (Debian's 2.9) take no list.
    filter_subjects: query.subject ?? SUBJECTS.deadAll,
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: new Date(query.since).toISOString(),
  });
  const out: DeadLetter[] = [];
  // Nothing of the subject after `since`: the consumer would wait for the next one.
  if ((await consumer.info(true)).num_pending === 0) return out;
  const messages = await consumer.consume();
  for await (const m of messages) {
    if (m.seq > last) break;
    let record: unknown;
    try {
      record = m.json();
    } catch {
      record = m.string();
    }
    out.push({ seq: m.seq, subject: m.subject, storedAt: m.time.getTime(), record });
    if (m.seq === last || m.info.pending === 0) break;
  }
  await messages.close();
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
