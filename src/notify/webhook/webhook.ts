import { DEFAULT_TIMEOUT_MS, httpResult, type ChannelAdapter, type ChannelConfig, type ChannelOptions, type DeliveryResult } from '../channel.ts';
import type { Notification } from '../notification.ts';

type WebhookConfig = Extract<ChannelConfig, { type: 'webhook' }>;

/** How much of a refusing receiver's answer goes into the error (and so into the dead letter). */
const DETAIL_CHARS = 200;

/**
 * The generic webhook (design section 7): POSTs the notification document as it is. Configured headers carry
 * the receiver's secrets (Authorization and the like), so neither they nor the URL, which may hold a token
 * too, ever appear in an error or a log line.
 */
export function webhookChannel(config: WebhookConfig, options: ChannelOptions = {}): ChannelAdapter {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  return {
    name: config.name,
    type: 'webhook',
    send: (notification, signal) => post(config, notification, timeoutMs, signal),
  };
}

async function post(config: WebhookConfig, notification: Notification, timeoutMs: number, signal?: AbortSignal): Promise<DeliveryResult> {
  const headers = new Headers(config.headers);
  headers.set('content-type', 'application/json');
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(config.url, {
      method: 'POST',
      headers,
      body: JSON.stringify(notification),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      // Following a redirect would resend the secret headers to wherever it points: a 3xx fails for good instead.
      redirect: 'manual',
    });
    // Read the answer to the end either way, so the connection goes back to the pool.
    const text = await response.text();
    const detail = response.ok ? '' : text.replace(/\s+/g, ' ').trim().slice(0, DETAIL_CHARS);
    return httpResult(response.status, response.statusText, detail);
  } catch (err) {
    if (timeout.aborted) return { ok: false, retryable: true, error: `no answer within ${timeoutMs} ms` };
    if (signal?.aborted) return { ok: false, retryable: true, error: 'delivery interrupted: the notifier is stopping' };
    return { ok: false, retryable: true, error: networkError(err) };
  }
}

/** fetch says only "fetch failed"; the cause (ECONNREFUSED, ENOTFOUND, a TLS error) is what an operator needs. */
function networkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
  return `request failed: ${reason}`;
}
