import type { NotifyConfig } from './routes.ts';
import type { Notification } from './notification.ts';
import { consoleChannel } from './console/console.ts';
import { emailChannel } from './email/email.ts';
import { pagerdutyChannel } from './pagerduty/pagerduty.ts';
import { slackChannel } from './slack/slack.ts';
import { webhookChannel } from './webhook/webhook.ts';

export type ChannelConfig = NotifyConfig['channels'][number];

/**
 * How one delivery went. A retryable failure (5xx, 429, network error, timeout) is tried again with back-off;
 * any other is final and dead-lettered at once, since repeating it cannot help. `skipped` says why a channel
 * delivered nothing on purpose (a stakeholder notice is no page for PagerDuty); `warning` is something the
 * operator should hear about a delivery that still counts as done (a mail server refused one recipient of two).
 */
export type DeliveryResult = { ok: true; skipped?: string; warning?: string } | { ok: false; retryable: boolean; error: string };

export interface SendOptions {
  /** The route said to address the team's contacts from the graph instead of the channel's own recipients. */
  useContacts?: boolean;
  /** Aborts the delivery (the notifier stopping). */
  signal?: AbortSignal;
}

/** One configured channel: renders a notification for its service and hands it over. */
export interface ChannelAdapter {
  /** The configured channel name (what routes refer to). */
  readonly name: string;
  readonly type: ChannelConfig['type'];
  /** Never throws: every failure is a DeliveryResult. */
  send(notification: Notification, options?: SendOptions): Promise<DeliveryResult>;
}

export interface ChannelOptions {
  /** How long one delivery may take before it counts as a (retryable) timeout. */
  timeoutMs?: number;
  /** `notify.incidentUrl`: the template (`{id}`) of a link to an incident, shown by the channels that can. */
  incidentUrl?: string;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export function createChannel(config: ChannelConfig, options: ChannelOptions = {}): ChannelAdapter {
  switch (config.type) {
    case 'webhook':
      return webhookChannel(config, options);
    case 'slack':
      return slackChannel(config, options);
    case 'email':
      return emailChannel(config, options);
    case 'pagerduty':
      return pagerdutyChannel(config, options);
    case 'console':
      return consoleChannel(config, options);
  }
}

/** 5xx and 429 (rate limited) may pass later; any other 4xx is a mistake in the request or its configuration. */
export function httpResult(status: number, statusText: string, detail = ''): DeliveryResult {
  if (status >= 200 && status < 300) return { ok: true };
  const error = `HTTP ${status}${statusText ? ` ${statusText}` : ''}${detail ? `: ${detail}` : ''}`;
  return { ok: false, retryable: status >= 500 || status === 429 || status === 408, error };
}

export type ContactKind = 'email' | 'slack' | 'pagerduty';

/** The team's contacts of one kind, without the prefix: `email:dba@example.com` → `dba@example.com`. */
export function contactsOf(notification: Notification, kind: ContactKind): string[] {
  const prefix = `${kind}:`;
  return [
    ...new Set(
      notification.contacts
        .filter((c) => c.startsWith(prefix))
        .map((c) => c.slice(prefix.length).trim())
        .filter((c) => c.length > 0),
    ),
  ];
}

/** The link to an incident from `notify.incidentUrl`, or undefined when none is configured. */
export function incidentLink(template: string | undefined, id: string): string | undefined {
  return template?.replaceAll('{id}', encodeURIComponent(id));
}
