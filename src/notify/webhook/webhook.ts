import { DEFAULT_TIMEOUT_MS, type ChannelAdapter, type ChannelConfig, type ChannelOptions } from '../channel.ts';
import { postJson } from '../http.ts';

type WebhookConfig = Extract<ChannelConfig, { type: 'webhook' }>;

/**
 * The generic webhook (design section 7): POSTs the notification document as it is, `contacts` included (the
 * receiver may address them itself; they are the graph's, readable over the API too). Configured headers
 * carry the receiver's secrets (Authorization and the like), so neither they nor the URL, which may hold a
 * token too, ever appear in an error or a log line. A webhook has no recipients of its own: `useContacts`
 * changes nothing.
 */
export function webhookChannel(config: WebhookConfig, options: ChannelOptions = {}): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const secrets = Object.values(config.headers ?? {});
  return {
    name: config.name,
    type: 'webhook',
    send: (notification, send = {}) =>
      postJson(config.url, notification, { ...(config.headers ? { headers: config.headers } : {}), timeoutMs, signal: send.signal, secrets }),
  };
}
