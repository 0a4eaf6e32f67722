import type { NotifyConfig } from './routes.ts';
import type { Notification } from './notification.ts';
import { webhookChannel } from './webhook/webhook.ts';

export type ChannelConfig = NotifyConfig['channels'][number];

/**
 * How one delivery went. A retryable failure (5xx, 429, network error, timeout) is tried again with back-off;
 * any other is final and dead-lettered at once, since repeating it cannot help.
 */
export type DeliveryResult = { ok: true } | { ok: false; retryable: boolean; error: string };

/** One configured channel: renders a notification for its service and hands it over. */
export interface ChannelAdapter {
  /** The configured channel name (what routes refer to). */
  readonly name: string;
  readonly type: ChannelConfig['type'];
  /** Never throws: every failure is a DeliveryResult. `signal` aborts the delivery (the notifier stopping). */
  send(notification: Notification, signal?: AbortSignal): Promise<DeliveryResult>;
}

export interface ChannelOptions {
  /** How long one delivery may take before it counts as a (retryable) timeout. */
  timeoutMs?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;

export function createChannel(config: ChannelConfig, options: ChannelOptions = {}): ChannelAdapter {
  switch (config.type) {
    case 'webhook':
      return webhookChannel(config, options);
    case 'slack':
    case 'email':
    case 'pagerduty':
      return notYet(config);
  }
}

/** Slack, email and PagerDuty land in src/notify/<channel>/ with issue #6; until then they fail for good, loudly. */
function notYet(config: ChannelConfig): ChannelAdapter {
  const error = `the ${config.type} channel arrives with issue #6`;
  return {
    name: config.name,
    type: config.type,
    send: async () => ({ ok: false, retryable: false, error }),
  };
}

/** 5xx and 429 (rate limited) may pass later; any other 4xx is a mistake in the request or its configuration. */
export function httpResult(status: number, statusText: string, detail = ''): DeliveryResult {
  if (status >= 200 && status < 300) return { ok: true };
  const error = `HTTP ${status}${statusText ? ` ${statusText}` : ''}${detail ? `: ${detail}` : ''}`;
  return { ok: false, retryable: status >= 500 || status === 429 || status === 408, error };
}
