import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { acknowledge } from '../../correlator/acknowledge.ts';
import { describeAt } from '../../zod-issues.ts';
import { signedWithOneOf } from '../auth.ts';
import type { ApiServices } from '../context.ts';
import { allowMethod, parseJsonBody, readBodyBytes, sendJson } from './http.ts';

/**
 * `POST /ingest/pagerduty`: the receiver of a PagerDuty v3 webhook subscription, so that acknowledging goes both
 * ways. An `incident.acknowledged` for an incident faultline raised acknowledges the faultline incident in the
 * name of the PagerDuty user (its teams are then told, as for `acknowledgeIncident`). Everything else PagerDuty
 * sends is answered 202 and left alone: whether the root still fails is the monitoring's to say, not PagerDuty's,
 * so a resolve there resolves nothing here.
 *
 * The delivery is trusted by its X-PagerDuty-Signature (HMAC-SHA256 of the raw body with the subscription's
 * secret, `ingest.pagerduty.secret`), not by a bearer token. PagerDuty retries what is not answered 2xx, so only
 * a delivery that may succeed later (the incident contended) is answered 5xx.
 */

export const INGEST_PAGERDUTY_PATH = '/ingest/pagerduty';
const SIGNATURE_HEADER = 'x-pagerduty-signature';

/** The dedup key the PagerDuty channel gives the alert of one incident and team (pagerduty.ts `pagerdutyDedupKey`). */
const FAULTLINE_KEY = /^faultline\/(inc-[0-9a-f]{16})\/.+$/;

const deliverySchema = z.object({
  event: z.object({
    id: z.string(),
    event_type: z.string(),
    occurred_at: z.string().optional(),
    agent: z.object({ summary: z.string().optional(), type: z.string().optional() }).nullable().optional(),
    data: z.object({ id: z.string().optional(), incident_key: z.string().nullable().optional(), html_url: z.string().optional() }).nullable().optional(),
  }),
});

export async function ingestPagerDuty(req: IncomingMessage, res: ServerResponse, services: ApiServices): Promise<void> {
  const log = services.log.child({ component: 'ingest', endpoint: INGEST_PAGERDUTY_PATH });
  try {
    const secrets = services.config.ingest.pagerduty?.secret;
    if (!secrets) {
      sendJson(res, 404, { error: 'PagerDuty webhooks are not configured here (ingest.pagerduty.secret)' });
      return;
    }
    if (!allowMethod(req, res, 'POST')) return;
    const body = await readBodyBytes(req, res, services.config.api.maxBodyBytes, 'json');
    if (!body.ok) return;
    if (!signedByOneOf(req.headers[SIGNATURE_HEADER], body.bytes, secrets)) {
      sendJson(res, 401, { error: 'the X-PagerDuty-Signature header is missing or matches no configured secret (ingest.pagerduty.secret)' });
      return;
    }
    const json = parseJsonBody(res, body.bytes);
    if (!json.ok) return;
    const parsed = deliverySchema.safeParse(json.value);
    if (!parsed.success) {
      log.warn({ reason: describeAt(parsed.error) }, 'PagerDuty webhook delivery not understood');
      sendJson(res, 400, { error: `not a PagerDuty v3 webhook delivery: ${describeAt(parsed.error)}` });
      return;
    }
    const { event } = parsed.data;
    const fields = { event: event.id, type: event.event_type, pagerdutyIncident: event.data?.id };
    if (event.event_type !== 'incident.acknowledged') {
      log.debug(fields, 'PagerDuty event left alone');
      sendJson(res, 202, { ignored: `faultline acts on incident.acknowledged only, not ${event.event_type}` });
      return;
    }
    const key = FAULTLINE_KEY.exec(event.data?.incident_key ?? '');
    if (!key) {
      log.info(fields, 'PagerDuty acknowledged an incident faultline did not raise');
      sendJson(res, 202, { ignored: 'the PagerDuty incident was not raised by faultline (its incident_key is not faultline/<incident>/<team>)' });
      return;
    }
    const id = key[1]!;
    const by = `${event.agent?.summary ?? 'someone'} (PagerDuty)`;
    const { incidents, clock } = services.correlation;
    const result = await acknowledge({ incidents, nats: services.nats, clock, log }, id, by);
    switch (result.outcome) {
      case 'acknowledged':
      case 'already':
        sendJson(res, 200, { incident: id, status: result.incident.status, acknowledgedBy: result.incident.acknowledgedBy ?? null });
        return;
      case 'resolved':
        sendJson(res, 202, { ignored: `incident ${id} is resolved` });
        return;
      case 'unknown':
        log.info({ ...fields, incident: id }, 'PagerDuty acknowledged an incident faultline no longer knows');
        sendJson(res, 202, { ignored: `no incident ${id} (forgotten after correlator.retention, or from another faultline)` });
        return;
      case 'contended':
        sendJson(res, 503, { error: `incident ${id} changed under every attempt; PagerDuty will deliver again` });
        return;
    }
  } catch (err) {
    log.error({ err }, 'unexpected error while taking a PagerDuty webhook delivery');
    sendJson(res, 500, { error: 'internal error' });
  }
}

/** Whether one of the `v1=` signatures in the header (several during PagerDuty's secret rotation) is the body's. */
export function signedByOneOf(header: string | string[] | undefined, body: Buffer, secrets: readonly string[]): boolean {
  const presented = (Array.isArray(header) ? header.join(',') : (header ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => s.slice(3));
  return signedWithOneOf(presented, body, secrets);
}
