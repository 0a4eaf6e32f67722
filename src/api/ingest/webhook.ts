import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiServices } from '../context.ts';
import { allowMethod, authorizeIngest, readJsonBody, sendJson } from './http.ts';
import { refuseTooMany, storeCandidates } from './store.ts';
import { mapWebhook, webhookItems } from './webhook-map.ts';

/**
 * `POST /ingest/webhook/<name>` (design section 6): any JSON a tool can send, turned into events by the field
 * mapping `ingest.webhooks` configures under that name (webhook-map.ts). Answers as `POST /ingest/events`, with
 * `index` the item's position in the `items` array (0 for a body that is one event); 404 for a name that is not
 * configured, checked after the credentials so that names cannot be probed without them.
 */

export const INGEST_WEBHOOK_PREFIX = '/ingest/webhook/';

export async function ingestWebhook(req: IncomingMessage, res: ServerResponse, services: ApiServices, name: string): Promise<void> {
  const endpoint = `${INGEST_WEBHOOK_PREFIX}${name}`;
  const log = services.log.child({ component: 'ingest', endpoint });
  try {
    const principal = authorizeIngest(req, res, services.config);
    if (!principal || !allowMethod(req, res, 'POST')) return;
    const mapping = services.config.ingest.webhooks.find((hook) => hook.name === name);
    if (!mapping) {
      const configured = services.config.ingest.webhooks.map((hook) => hook.name);
      const known = configured.length > 0 ? `; configured: ${configured.join(', ')}` : '';
      sendJson(res, 404, { error: `no webhook named ${JSON.stringify(name)} is configured (ingest.webhooks)${known}` });
      return;
    }
    const body = await readJsonBody(req, res, services.config.api.maxBodyBytes);
    if (!body.ok) return;

    const items = webhookItems(mapping, body.value);
    if (!items.ok) {
      sendJson(res, 400, { error: items.error });
      return;
    }
    if (items.items.length === 0) {
      sendJson(res, 400, { error: `${mapping.items} holds no items` });
      return;
    }
    if (refuseTooMany(res, items.items.length, 'items')) return;
    const candidates = mapWebhook(mapping, body.value, items.items);
    await storeCandidates(res, services, { via: `POST ${endpoint}`, source: mapping.source ?? mapping.name, candidates, principal, log });
  } catch (err) {
    log.error({ err }, 'unexpected error while ingesting a webhook');
    sendJson(res, 500, { error: 'internal error' });
  }
}
