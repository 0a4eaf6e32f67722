import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiServices } from '../context.ts';
import { ingestAlertmanager, INGEST_ALERTMANAGER_PATH } from './alertmanager.ts';
import { ingestEvents, INGEST_EVENTS_PATH } from './events.ts';
import { ingestPagerDuty, INGEST_PAGERDUTY_PATH } from './pagerduty.ts';
import { ingestSlack, INGEST_SLACK_PATH } from './slack.ts';
import { ingestWebhook, INGEST_WEBHOOK_PREFIX } from './webhook.ts';

/**
 * The ingest endpoints of design section 6, by path (the query string already cut off): the handler for
 * `path`, or undefined when the path is not one of them.
 */
export function ingestRoute(path: string | undefined): ((req: IncomingMessage, res: ServerResponse, services: ApiServices) => Promise<void>) | undefined {
  if (path === INGEST_EVENTS_PATH) return ingestEvents;
  if (path === INGEST_ALERTMANAGER_PATH) return ingestAlertmanager;
  if (path === INGEST_PAGERDUTY_PATH) return ingestPagerDuty;
  if (path === INGEST_SLACK_PATH) return ingestSlack;
  if (path?.startsWith(INGEST_WEBHOOK_PREFIX)) {
    const name = decodeName(path.slice(INGEST_WEBHOOK_PREFIX.length));
    return (req, res, services) => ingestWebhook(req, res, services, name);
  }
  return undefined;
}

function decodeName(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}
