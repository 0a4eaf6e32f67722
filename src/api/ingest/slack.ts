import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { acknowledge } from '../../correlator/acknowledge.ts';
import { ACKNOWLEDGE_ACTION } from '../../notify/slack/slack.ts';
import { describeAt } from '../../zod-issues.ts';
import { signedWithOneOf } from '../auth.ts';
import type { ApiServices } from '../context.ts';
import { allowMethod, readBodyBytes, sendJson } from './http.ts';

/**
 * `POST /ingest/slack`: the interactivity Request URL of the Slack app whose messages carry faultline's
 * Acknowledge button (a slack channel with `acknowledgeButton`). A click acknowledges the incident in the name of
 * the Slack user; the leader then tells the incident's teams, in Slack too, who is on it.
 *
 * Slack signs each request (X-Slack-Signature: v0= HMAC-SHA256 of `v0:<timestamp>:<raw body>` with the app's
 * signing secret) and says when (X-Slack-Request-Timestamp); a request older than five minutes is refused, so a
 * captured one cannot be played again later. Slack wants 200 within three seconds, whatever faultline made of
 * the click, and shows the clicker an error otherwise: refusals are for requests that are not Slack's.
 */

export const INGEST_SLACK_PATH = '/ingest/slack';
const REPLAY_WINDOW_S = 300;

const interactionSchema = z.object({
  type: z.string(),
  user: z.object({ id: z.string(), username: z.string().optional(), name: z.string().optional() }).optional(),
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).optional(),
});

export async function ingestSlack(req: IncomingMessage, res: ServerResponse, services: ApiServices): Promise<void> {
  const log = services.log.child({ component: 'ingest', endpoint: INGEST_SLACK_PATH });
  try {
    const secrets = services.config.ingest.slack?.signingSecret;
    if (!secrets) {
      sendJson(res, 404, { error: 'Slack interactivity is not configured here (ingest.slack.signingSecret)' });
      return;
    }
    if (!allowMethod(req, res, 'POST')) return;
    const body = await readBodyBytes(req, res, services.config.api.maxBodyBytes, 'form');
    if (!body.ok) return;
    const refused = slackSignatureProblem(req.headers, body.bytes, secrets, Date.now());
    if (refused) {
      sendJson(res, 401, { error: refused });
      return;
    }
    let interaction: z.infer<typeof interactionSchema>;
    try {
      const parsed = interactionSchema.safeParse(JSON.parse(new URLSearchParams(body.bytes.toString('utf8')).get('payload') ?? ''));
      if (!parsed.success) throw new Error(describeAt(parsed.error, ['payload']));
      interaction = parsed.data;
    } catch (err) {
      log.warn({ reason: (err as Error).message }, 'Slack interaction not understood');
      sendJson(res, 400, { error: `expected a Slack interaction (a form field payload holding JSON): ${(err as Error).message}` });
      return;
    }
    const clicks = (interaction.actions ?? []).filter((a) => a.action_id === ACKNOWLEDGE_ACTION && a.value);
    if (interaction.type !== 'block_actions' || clicks.length === 0) {
      sendJson(res, 200, { ignored: `nothing for faultline in a ${interaction.type} interaction` });
      return;
    }
    const user = interaction.user;
    const by = `${user?.name ?? user?.username ?? user?.id ?? 'someone'} (Slack)`;
    const { incidents, clock } = services.correlation;
    const answers = [];
    for (const click of clicks) {
      const id = click.value!;
      const result = await acknowledge({ incidents, nats: services.nats, clock, log }, id, by);
      if (result.outcome === 'unknown' || result.outcome === 'resolved' || result.outcome === 'contended') log.info({ incident: id, by, outcome: result.outcome }, 'Slack acknowledgement not taken');
      answers.push({ incident: id, outcome: result.outcome, ...('incident' in result ? { acknowledgedBy: result.incident.acknowledgedBy ?? null } : {}) });
    }
    sendJson(res, 200, { acknowledged: answers });
  } catch (err) {
    log.error({ err }, 'unexpected error while taking a Slack interaction');
    sendJson(res, 500, { error: 'internal error' });
  }
}

/** Why the request is not Slack's (a missing, stale or wrong signature), or undefined when it is. */
export function slackSignatureProblem(headers: IncomingMessage['headers'], body: Buffer, secrets: readonly string[], nowMs: number): string | undefined {
  const timestamp = String(headers['x-slack-request-timestamp'] ?? '');
  const signature = String(headers['x-slack-signature'] ?? '');
  if (!/^\d+$/.test(timestamp) || !signature.startsWith('v0=')) return 'the X-Slack-Request-Timestamp and X-Slack-Signature headers are required';
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > REPLAY_WINDOW_S) return 'the request is more than five minutes old (or the clocks disagree)';
  const signed = Buffer.concat([Buffer.from(`v0:${timestamp}:`), body]);
  return signedWithOneOf([signature.slice(3)], signed, secrets) ? undefined : 'the X-Slack-Signature matches no configured signing secret (ingest.slack.signingSecret)';
}
