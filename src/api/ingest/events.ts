import type { IncomingMessage, ServerResponse } from 'node:http';
import { jetstream } from '@nats-io/jetstream';
import { BusUnavailableError, deadLetterEvent, maxBytesOf, prepareEvent, publishPrepared, type PreparedEvent } from '../../bus/publish-event.ts';
import type { ApiServices } from '../context.ts';
import { allowMethod, authorizeWrite, readJsonBody, sendJson } from './http.ts';

/**
 * `POST /ingest/events` (design section 6): one event object, or an array of them, in the shape of
 * src/correlator/event.ts. Valid events are stored on `faultline.events.<source>`; invalid ones go to
 * `faultline.dead.events` with their reason and are listed in the answer. Valid events are stored even when
 * others in the same request are not: 202 when all were valid, else 422 naming each refused one by index.
 */

export const INGEST_EVENTS_PATH = '/ingest/events';
/** Events in one request: beyond this a producer should split its batch. */
export const MAX_EVENTS_PER_REQUEST = 10_000;
/** The subject's source for events that do not name their own. */
export const HTTP_SOURCE = 'http';
/** PubAcks awaited at once: enough to keep a large batch fast, few enough not to flood the server. */
const PUBLISH_WINDOW = 256;

export interface IngestAnswer {
  accepted: number;
  duplicates: number;
  rejected?: { index: number; reason: string }[];
}

export async function ingestEvents(req: IncomingMessage, res: ServerResponse, services: ApiServices): Promise<void> {
  const log = services.log.child({ component: 'ingest', endpoint: INGEST_EVENTS_PATH });
  try {
    const principal = authorizeWrite(req, res, services.config.api);
    if (!principal || !allowMethod(req, res, 'POST')) return;
    const body = await readJsonBody(req, res, services.config.api.maxBodyBytes);
    if (!body.ok) return;

    const items = Array.isArray(body.value) ? body.value : [body.value];
    if (items.length === 0) {
      sendJson(res, 400, { error: 'the array holds no events' });
      return;
    }
    if (items.length > MAX_EVENTS_PER_REQUEST) {
      sendJson(res, 413, { error: `${items.length} events in one request exceeds the limit of ${MAX_EVENTS_PER_REQUEST}; send them in smaller batches` });
      return;
    }

    const now = Date.now();
    const maxBytes = maxBytesOf(services.nats);
    const valid: PreparedEvent[] = [];
    const rejected: { index: number; reason: string }[] = [];
    items.forEach((item, index) => {
      const prepared = prepareEvent(item, { source: HTTP_SOURCE, now, ...maxBytes });
      if (prepared.ok) valid.push(prepared.event);
      else rejected.push({ index, reason: prepared.reason });
    });

    const tally = { accepted: 0, duplicates: 0 };
    try {
      await publishAll(services, valid, tally);
      const receivedAt = new Date(now).toISOString();
      for (const { index, reason } of rejected) {
        await deadLetterEvent(services.nats, { reason, via: `POST ${INGEST_EVENTS_PATH}`, receivedAt, body: items[index] });
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
  } catch (err) {
    log.error({ err }, 'unexpected error while ingesting events');
    sendJson(res, 500, { error: 'internal error' });
  }
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
