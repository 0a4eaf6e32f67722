import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiServices } from '../context.ts';
import { allowMethod, authorizeIngest, readJsonBody, sendJson } from './http.ts';
import { refuseTooMany, storeCandidates } from './store.ts';

/**
 * `POST /ingest/events` (design section 6): one event object, or an array of them, in the shape of
 * src/correlator/event.ts. Valid events are stored on `faultline.events.<source>`; invalid ones go to
 * `faultline.dead.events` with their reason and are listed in the answer. Valid events are stored even when
 * others in the same request are not: 202 when all were valid, else 422 naming each refused one by index.
 */

export const INGEST_EVENTS_PATH = '/ingest/events';
export { MAX_EVENTS_PER_REQUEST, type IngestAnswer } from './store.ts';
/** The subject's source for events that do not name their own. */
export const HTTP_SOURCE = 'http';

export async function ingestEvents(req: IncomingMessage, res: ServerResponse, services: ApiServices): Promise<void> {
  const log = services.log.child({ component: 'ingest', endpoint: INGEST_EVENTS_PATH });
  try {
    const principal = authorizeIngest(req, res, services.config);
    if (!principal || !allowMethod(req, res, 'POST')) return;
    const body = await readJsonBody(req, res, services.config.api.maxBodyBytes);
    if (!body.ok) return;

    const items = Array.isArray(body.value) ? body.value : [body.value];
    if (items.length === 0) {
      sendJson(res, 400, { error: 'the array holds no events' });
      return;
    }
    if (refuseTooMany(res, items.length)) return;
    const candidates = items.map((item: unknown) => ({ event: item, body: item }));
    await storeCandidates(res, services, { via: `POST ${INGEST_EVENTS_PATH}`, source: HTTP_SOURCE, candidates, principal, log });
  } catch (err) {
    log.error({ err }, 'unexpected error while ingesting events');
    sendJson(res, 500, { error: 'internal error' });
  }
}
