import { redact, urlSecrets } from '../redact.ts';
import { httpResult, type DeliveryResult } from './channel.ts';

/** How much of a refusing receiver's answer goes into the error (and so into the dead letter). */
const DETAIL_CHARS = 200;

export interface PostOptions {
  headers?: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Strings that must not reach the error even if the receiver echoes them (a routing key, a token). */
  secrets?: readonly string[];
}

/**
 * POSTs a JSON document and turns the answer into a DeliveryResult (the HTTP rule of `httpResult`). The URL
 * and headers may carry secrets, so neither appears in the error; redirects are not followed, since following
 * one would resend the headers (or the document) to wherever it points, and count as final failures.
 */
export async function postJson(url: string, body: unknown, options: PostOptions): Promise<DeliveryResult> {
  const secrets = [...(options.secrets ?? []), ...urlSecrets(url)];
  const headers = new Headers(options.headers);
  headers.set('content-type', 'application/json');
  const timeout = AbortSignal.timeout(options.timeoutMs);
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: options.signal ? AbortSignal.any([options.signal, timeout]) : timeout,
      redirect: 'manual',
    });
    // Read the answer to the end either way, so the connection goes back to the pool.
    const text = await response.text();
    const detail = response.ok ? '' : redact(text.replace(/\s+/g, ' ').trim(), secrets).slice(0, DETAIL_CHARS);
    return httpResult(response.status, response.statusText, detail);
  } catch (err) {
    if (timeout.aborted) return { ok: false, retryable: true, error: `no answer within ${options.timeoutMs} ms` };
    if (options.signal?.aborted) return { ok: false, retryable: true, error: 'delivery interrupted: the notifier is stopping' };
    return { ok: false, retryable: true, error: redact(networkError(err), secrets) };
  }
}

/** fetch says only "fetch failed"; the cause (ECONNREFUSED, ENOTFOUND, a TLS error) is what an operator needs. */
function networkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
  return `request failed: ${reason}`;
}
