import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiServices } from '../context.ts';
import { ALERTMANAGER_SOURCE, mapAlertmanager, parseAlertmanagerPayload } from './alertmanager-map.ts';
import { allowMethod, authorizeIngest, readJsonBody, sendJson } from './http.ts';
import { refuseTooMany, storeCandidates } from './store.ts';

/**
 * `POST /ingest/alertmanager` (design section 6): the receiver of an Alertmanager `webhook_configs` entry. Each
 * alert of the payload becomes one event (alertmanager-map.ts); the answers are those of `POST /ingest/events`,
 * with `index` the alert's position in `alerts`. Alertmanager retries a 5xx and gives up on a 4xx, so a 422 stores
 * the good alerts once and reports the bad ones in its log (and they are in the dead letters).
 */

export const INGEST_ALERTMANAGER_PATH = '/ingest/alertmanager';

export async function ingestAlertmanager(req: IncomingMessage, res: ServerResponse, services: ApiServices): Promise<void> {
  const log = services.log.child({ component: 'ingest', endpoint: INGEST_ALERTMANAGER_PATH });
  try {
    const principal = authorizeIngest(req, res, services.config);
    if (!principal || !allowMethod(req, res, 'POST')) return;
    const body = await readJsonBody(req, res, services.config.api.maxBodyBytes);
    if (!body.ok) return;

    const parsed = parseAlertmanagerPayload(body.value);
    if (!parsed.ok) {
      sendJson(res, 400, { error: parsed.error });
      return;
    }
    if (parsed.payload.alerts.length === 0) {
      sendJson(res, 400, { error: 'alerts: the payload holds no alerts' });
      return;
    }
    if (refuseTooMany(res, parsed.payload.alerts.length, 'alerts')) return;
    const candidates = mapAlertmanager(parsed.payload, services.config.ingest.alertmanager);
    log.debug({ principal: principal.name, receiver: parsed.payload.receiver, status: parsed.payload.status, alerts: candidates.length }, 'Alertmanager notification');
    await storeCandidates(res, services, { via: `POST ${INGEST_ALERTMANAGER_PATH}`, source: ALERTMANAGER_SOURCE, candidates, principal, log });
  } catch (err) {
    log.error({ err }, 'unexpected error while ingesting an Alertmanager notification');
    sendJson(res, 500, { error: 'internal error' });
  }
}
