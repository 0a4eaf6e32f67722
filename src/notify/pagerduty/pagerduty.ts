import { contactsOf, DEFAULT_TIMEOUT_MS, incidentLink, type ChannelAdapter, type ChannelConfig, type ChannelOptions, type DeliveryResult } from '../channel.ts';
import { postJson } from '../http.ts';
import { suppressedCount, type Notification } from '../notification.ts';

type PagerDutyConfig = Extract<ChannelConfig, { type: 'pagerduty' }>;

/** The Events API v2 severities, from a notification's (the incident's worst alert status). */
const SEVERITY = { critical: 'critical', unknown: 'error', warning: 'warning', ok: 'info' } as const;
type PagerDutySeverity = (typeof SEVERITY)[keyof typeof SEVERITY];

/** PagerDuty cuts a summary at 1,024 characters and refuses a longer dedup key than 255. */
const SUMMARY_CHARS = 1_024;

export type PagerDutyEvent =
  | {
      routing_key: string;
      event_action: 'trigger';
      dedup_key: string;
      payload: {
        summary: string;
        source: string;
        severity: PagerDutySeverity;
        timestamp: string;
        component?: string;
        group?: string;
        custom_details: Record<string, unknown>;
      };
      links?: { href: string; text: string }[];
      client: string;
      client_url?: string;
    }
  | { routing_key: string; event_action: 'resolve' | 'acknowledge'; dedup_key: string };

/**
 * The PagerDuty alert a notification belongs to: one per incident and team. Every notification about the
 * incident to that team (the page, later the resolution) names the same one, so the resolve closes what the
 * trigger opened; two teams paged for one incident (two owners) each get their own alert.
 */
export function pagerdutyDedupKey(notification: Notification): string {
  return `faultline/${notification.incident.id}/${notification.team ?? 'unowned'}`;
}

/**
 * What a notification becomes on PagerDuty, or why it is nothing there. PagerDuty pages whoever is on call, so
 * only what pages: a page triggers; a resolution, and an update saying the incident was closed (folded into
 * another), resolves; an update to an open incident triggers again for the owners (PagerDuty adds it to the
 * open alert); an update saying someone acknowledged the incident in faultline acknowledges the owners' alert,
 * so PagerDuty stops escalating it; a reminder is skipped, since the escalation policy already re-notifies, and so
 * is a note. A stakeholder notice is skipped: a service of theirs is affected, but the
 * cause is someone else's, and waking them is what faultline exists to avoid. Route stakeholder notices to Slack
 * or email (`match: { kind: stakeholder }`).
 */
export function pagerdutyAction(notification: Notification): 'trigger' | 'resolve' | 'acknowledge' | { skip: string } {
  const { kind, incident, team } = notification;
  if (kind === 'resolved' || (kind === 'update' && incident.status === 'resolved')) return 'resolve';
  if (kind === 'page') return 'trigger';
  if (notification.change === 'reminder') return { skip: 'PagerDuty escalates an unacknowledged alert by its own policy: a reminder would only repeat the trigger' };
  if (notification.change === 'note') return { skip: "a note pages nobody, and PagerDuty's Events API cannot add one to an alert: route notes to Slack or email" };
  const owns = team === null ? incident.owners.length === 0 : incident.owners.includes(team);
  if (kind === 'update' && owns) return notification.change === 'acknowledged' ? 'acknowledge' : 'trigger';
  return { skip: `a ${kind} notice for ${team ?? 'nobody'}, who does not own the root, pages nobody on PagerDuty` };
}

/** The Events API v2 document for a notification (pure; exported for tests and previews). */
export function pagerdutyEvent(notification: Notification, action: 'trigger' | 'resolve' | 'acknowledge', routingKey: string, link: string | undefined): PagerDutyEvent {
  const dedupKey = pagerdutyDedupKey(notification);
  if (action !== 'trigger') return { routing_key: routingKey, event_action: action, dedup_key: dedupKey };
  const { incident } = notification;
  const summary = notification.reason ? `${notification.summary} (${notification.reason})` : notification.summary;
  // The responder's two next clicks: the incident in faultline, and what to do (each root alert's runbook).
  const links = [
    ...(link ? [{ href: link, text: `faultline incident ${incident.id}` }] : []),
    ...incident.rootAlerts.flatMap((a) => (a.runbook ? [{ href: a.runbook, text: `runbook for ${a.id}` }] : [])),
  ];
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: dedupKey,
    payload: {
      summary: summary.length <= SUMMARY_CHARS ? summary : `${summary.slice(0, SUMMARY_CHARS - 1)}…`,
      source: incident.root[0] ?? incident.rootAlerts[0]?.id ?? 'faultline',
      severity: SEVERITY[notification.severity],
      timestamp: notification.createdAt,
      ...(incident.root[0] ? { component: incident.root[0] } : {}),
      ...(notification.team ? { group: notification.team } : {}),
      custom_details: {
        incident: incident.id,
        status: incident.status,
        root: incident.root,
        rootAlerts: incident.rootAlerts,
        suppressed: suppressedCount(incident),
        suppressedAlerts: incident.suppressed.slice(0, 50),
        affectedServices: incident.affectedServices,
        owners: incident.owners,
        stakeholders: incident.stakeholders,
        ...(incident.mergedInto ? { mergedInto: incident.mergedInto } : {}),
      },
    },
    ...(links.length > 0 ? { links } : {}),
    ...(link ? { client_url: link } : {}),
    client: 'faultline',
  };
}

/**
 * PagerDuty Events API v2 (`url`, by default https://events.pagerduty.com/v2/enqueue). The routing key is the
 * configured `routingKey`, or the team's `pagerduty:` contact when there is none or the route says
 * `useContacts` (falling back to the configured one when the team has no such contact). The key never appears
 * in an error. 202 is delivered; 429 and 5xx are retried; 400 (a bad key or document) is final.
 */
export function pagerdutyChannel(config: PagerDutyConfig, options: ChannelOptions = {}): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: config.name,
    type: 'pagerduty',
    async send(notification, send = {}): Promise<DeliveryResult> {
      const action = pagerdutyAction(notification);
      if (typeof action === 'object') return { ok: true, skipped: action.skip };
      const contact = contactsOf(notification, 'pagerduty')[0];
      const routingKey = (send.useContacts || !config.routingKey ? contact : undefined) ?? config.routingKey;
      if (!routingKey) {
        return { ok: false, retryable: false, error: `no routing key: the channel has no routingKey and ${notification.team ?? 'the (unowned) root'} has no pagerduty: contact` };
      }
      const event = pagerdutyEvent(notification, action, routingKey, incidentLink(options.incidentUrl, notification.incident.id));
      return postJson(config.url, event, { timeoutMs, signal: send.signal, secrets: [routingKey] });
    },
  };
}
