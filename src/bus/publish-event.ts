import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { eventSchema, parseEvent, type DeadEvent } from '../correlator/event.ts';
import { STREAMS, SUBJECTS } from './layout.ts';

/**
 * The producer side of design section 6: events validated here (so the producer hears of a mistake at once),
 * then stored on JetStream `faultline.events.<source>` with the producer's `id` as the message id, so the
 * stream drops a repeat within its duplicate window. The correlator consumes the stream.
 */

/** How long to wait for JetStream to acknowledge a message before calling the bus unavailable. */
const ACK_TIMEOUT_MS = 5_000;
/** Room left in a message for the headers (message id, expected stream) beside the JSON. */
const HEADER_ROOM = 512;

export interface PublishAck {
  subject: string;
  stream: string;
  seq: number;
  /** The stream already held a message with this event's `id`: nothing new was stored. */
  duplicate: boolean;
}

/** An event that passed validation, ready to publish: the producer's JSON, not the normalised form. */
export interface PreparedEvent {
  subject: string;
  payload: Record<string, unknown>;
  msgID?: string;
}

export type Prepared = { ok: true; event: PreparedEvent } | { ok: false; reason: string };

/** Refused before publishing; `reason` names each field at fault. */
export class InvalidEventError extends Error {
  override name = 'InvalidEventError';
  constructor(readonly reason: string) {
    super(`invalid event: ${reason}`);
  }
}

/** The bus did not store the message (NATS unreachable, no stream for the subject, no PubAck in time). */
export class BusUnavailableError extends Error {
  override name = 'BusUnavailableError';
}

export interface PrepareOptions {
  /** The subject's source for an event that names none. */
  source: string;
  /** The time of receipt, for an event without `time`; default: now. */
  now?: number;
  /** The largest message the server takes (its max_payload); a larger event is refused, not sent. */
  maxBytes?: number;
}

/**
 * Validates `input` and works out where it goes. The payload is the input as given, plus `time` (the time of
 * receipt) when it had none: a redelivery then keeps the time of first receipt.
 */
export function prepareEvent(input: unknown, options: PrepareOptions): Prepared {
  const source = eventSchema.shape.source.safeParse(options.source);
  if (!source.success || source.data === undefined) return { ok: false, reason: `source: "${options.source}" may hold letters, digits, _ and - only` };
  const now = options.now ?? Date.now();
  const parsed = parseEvent(input, { time: now, source: source.data });
  if (!parsed.ok) return parsed;
  const payload = { ...(input as Record<string, unknown>) };
  if (payload.time === undefined) payload.time = new Date(now).toISOString();
  if (options.maxBytes !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(payload));
    const limit = options.maxBytes - HEADER_ROOM;
    if (bytes > limit) return { ok: false, reason: `the event is ${bytes} bytes of JSON; the limit is ${limit} (NATS max_payload)` };
  }
  const event: PreparedEvent = { subject: SUBJECTS.events(parsed.event.source), payload };
  if (parsed.event.id !== undefined) event.msgID = parsed.event.id;
  return { ok: true, event };
}

/** Publishes a prepared event and waits for JetStream to store it. */
export async function publishPrepared(js: JetStreamClient, event: PreparedEvent): Promise<PublishAck> {
  const options = { timeout: ACK_TIMEOUT_MS, expect: { streamName: STREAMS.events.name }, ...(event.msgID !== undefined ? { msgID: event.msgID } : {}) };
  try {
    const ack = await js.publish(event.subject, JSON.stringify(event.payload), options);
    return { subject: event.subject, stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
  } catch (err) {
    throw busError(err, event.subject);
  }
}

/** Validates and publishes one event; throws InvalidEventError or BusUnavailableError. */
export async function publishEvent(nc: NatsConnection, input: unknown, options: Omit<PrepareOptions, 'maxBytes'>): Promise<PublishAck> {
  const prepared = prepareEvent(input, { ...options, ...maxBytesOf(nc) });
  if (!prepared.ok) throw new InvalidEventError(prepared.reason);
  return publishPrepared(jetstream(nc), prepared.event);
}

/** Stores a refused event on `faultline.dead.events` with its reason, and waits for JetStream to store it. */
export async function deadLetterEvent(nc: NatsConnection, dead: DeadEvent, options: { msgID?: string } = {}): Promise<{ stream: string; seq: number }> {
  try {
    const ack = await jetstream(nc).publish(SUBJECTS.deadEvents, withinPayloadLimit(dead, maxBytesOf(nc).maxBytes ?? DEFAULT_MAX_PAYLOAD), {
      timeout: ACK_TIMEOUT_MS,
      expect: { streamName: STREAMS.dead.name },
      ...options,
    });
    return { stream: ack.stream, seq: ack.seq };
  } catch (err) {
    throw busError(err, SUBJECTS.deadEvents);
  }
}

/** NATS's max_payload when the server says nothing of its own. */
export const DEFAULT_MAX_PAYLOAD = 1_048_576;

/** The server's max_payload, once connected. */
export function maxBytesOf(nc: NatsConnection): { maxBytes?: number } {
  const max = nc.info?.max_payload;
  return max ? { maxBytes: max } : {};
}

/** The record as JSON; a body too large for one NATS message is kept as the start of its JSON text. */
function withinPayloadLimit(dead: DeadEvent, maxPayload: number): string {
  const data = JSON.stringify(dead);
  if (Buffer.byteLength(data) <= maxPayload - HEADER_ROOM) return data;
  const text = JSON.stringify(dead.body) ?? String(dead.body);
  const keep = Math.floor(maxPayload / 8); // characters: at most 6 bytes each once escaped again
  return JSON.stringify({ ...dead, reason: `${dead.reason} (body truncated to its first ${keep} characters)`, body: text.slice(0, keep) });
}

function busError(err: unknown, subject: string): Error {
  const name = err instanceof Error ? err.name : '';
  const message = err instanceof Error ? err.message : String(err);
  // nats.js reports "no responders" on a JetStream publish as JetStreamNotEnabled; on a server with JetStream
  // (connectNats proved it) it means that no stream stores the subject yet.
  if (name === 'JetStreamNotEnabled') {
    return new BusUnavailableError(`no JetStream stream stores ${subject} (faultline serve creates the streams at start)`, { cause: err });
  }
  if (name === 'ClosedConnectionError' || name === 'DrainingConnectionError') return new BusUnavailableError(`the connection to NATS is closed`, { cause: err });
  if (name === 'TimeoutError') return new BusUnavailableError(`NATS did not acknowledge ${subject} within ${ACK_TIMEOUT_MS / 1000}s`, { cause: err });
  return new BusUnavailableError(`NATS refused ${subject}: ${message}`, { cause: err });
}
