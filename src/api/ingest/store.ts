import type { ServerResponse } from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { BusUnavailableError, deadLetterEvent, maxBytesOf, prepareEvent, publishPrepared, type PreparedEvent } from '../../bus/publish-event.ts';
import type { Logger } from '../../log.ts';
import type { ApiServices, Principal } from '../context.ts';
import { sendJson } from './http.ts';

/**
 * The second half of every ingest endpoint, once its payload has been turned into candidate events: validate each
 * (`prepareEvent`), store the valid ones on `faultline.events.<source>`, dead-letter the rest with their reason,
 * and answer. 202 when every candidate was stored, 422 naming each refused one by index (the valid ones are
 * stored all the same), 503 when the bus failed part-way (what was stored stays stored).
 */

/** Events in one request: beyond this a producer should split its batch. */
export const MAX_EVENTS_PER_REQUEST = 10_000;
/** PubAcks awaited at once: enough to keep a large batch fast, few enough not to flood the server. */
const PUBLISH_WINDOW = 256;

/** One item of a request: an event to validate and store, or the reason it could not even be made into one. */
export type Candidate = { event: unknown; body: unknown } | { reason: string; body: unknown };

export interface IngestAnswer {
  accepted: number;
  duplicates: number;
  rejected?: { index: number; reason: string }[];
}

export interface StoreRequest {
  /** How the events came in, for the dead letters: `POST /ingest/alertmanager`. */
  via: string;
  /** The subject's source for events that name none. */
  source: string;
  /** In the request's order; `index` in the answer is the position here. */
  candidates: Candidate[];
  principal: Principal;
  log: Logger;
}

/** 413 when a request holds more items than one request may; true when it was answered. */
export function refuseTooMany(res: ServerResponse, count: number, what = 'events'): boolean {
  if (count <= MAX_EVENTS_PER_REQUEST) return false;
  sendJson(res, 413, { error: `${count} ${what} in one request exceeds the limit of ${MAX_EVENTS_PER_REQUEST}; send them in smaller batches` });
  return true;
}

export async function storeCandidates(res: ServerResponse, services: ApiServices, request: StoreRequest): Promise<void> {
  const { log, principal } = request;
  const now = Date.now();
  const maxBytes = maxBytesOf(services.nats);
  const valid: PreparedEvent[] = [];
  const rejected: { index: number; reason: string }[] = [];
  request.candidates.forEach((candidate, index) => {
    if ('reason' in candidate) {
      rejected.push({ index, reason: candidate.reason });
      return;
    }
    const prepared = prepareEvent(candidate.event, { source: request.source, now, ...maxBytes });
    if (prepared.ok) valid.push(prepared.event);
    else rejected.push({ index, reason: prepared.reason });
  });

  const tally = { accepted: 0, duplicates: 0 };
  try {
    await publishAll(services, valid, tally);
    const receivedAt = new Date(now).toISOString();
    for (const { index, reason } of rejected) {
      await deadLetterEvent(services.nats, { reason, via: request.via, receivedAt, body: request.candidates[index]!.body });
    }
  } catch (err) {
    if (!(err instanceof BusUnavailableError)) throw err;
    log.error({ principal: principal.name, ...tally, err: err.message }, 'event bus unavailable');
    // What was stored stays stored: a producer retrying with event ids gets those reported as duplicates.
    sendJson(res, 503, { error: `events could not be stored: ${err.message}`, ...tally });
    return;
  }

  if (rejected.length > 0) {
    log.warn({ principal: principal.name, ...tally, rejected: rejected.length, firstReason: rejected[0]!.reason }, 'events refused');
    sendJson(res, 422, { ...tally, rejected } satisfies IngestAnswer);
    return;
  }
  log.debug({ principal: principal.name, ...tally }, 'events accepted');
  sendJson(res, 202, tally satisfies IngestAnswer);
}

/** Publishes in order with up to PUBLISH_WINDOW acknowledgements outstanding; stops at the first failure. */
async function publishAll(services: ApiServices, events: PreparedEvent[], tally: { accepted: number; duplicates: number }): Promise<void> {
  const js = jetstream(services.nats);
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < events.length) {
      const event = events[next++]!;
      try {
        const ack = await publishPrepared(js, event);
        tally.accepted++;
        if (ack.duplicate) tally.duplicates++;
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(PUBLISH_WINDOW, events.length) }, worker));
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
}
