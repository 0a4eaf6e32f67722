/**
 * A small client of PuppetDB's query API (v4) over Node's fetch: POST queries (no URL length limit on long
 * `in` lists), a time-out per request, and errors that name the URL and say what went wrong. The URL is the
 * PuppetDB's base (`http://puppetdb:8080`); no credentials are sent, so none can be logged.
 */

export const DEFAULT_TIMEOUT_MS = 60_000;

export interface ClientOptions {
  /** Per request, from sending it to the last byte of the answer. */
  timeoutMs?: number;
}

export class PuppetdbError extends Error {
  override name = 'PuppetdbError';
}

export class PuppetdbClient {
  /** The base URL, without a trailing slash: what every message names. */
  readonly base: string;
  private readonly timeoutMs: number;

  constructor(url: string, options: ClientOptions = {}) {
    this.base = baseUrl(url);
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** `catalogs` → `http://puppetdb:8080/pdb/query/v4/catalogs`. */
  endpoint(entity: string): string {
    return `${this.base}/pdb/query/v4/${entity}`;
  }

  /** One query (`{query, order_by, limit, offset}`) of an entity endpoint; the parsed JSON answer. */
  async query(entity: string, body: Record<string, unknown>): Promise<unknown> {
    const url = this.endpoint(entity);
    let response: Response;
    let text: string;
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(body),
        signal,
        redirect: 'error',
      });
      text = await response.text();
    } catch (err) {
      throw new PuppetdbError(`cannot query PuppetDB at ${url}: ${networkReason(err, this.timeoutMs)}`);
    }
    if (!response.ok) {
      // PuppetDB says why in plain text or JSON; Jetty's own error pages are HTML, of no use in one line.
      const html = /html/i.test(response.headers.get('content-type') ?? '') || /^\s*</.test(text);
      const said = html ? '' : text.replace(/\s+/g, ' ').trim().slice(0, 300);
      const hint = response.status === 404 ? ` (is ${this.base} the base URL of a PuppetDB, such as http://puppetdb:8080?)` : '';
      throw new PuppetdbError(`PuppetDB at ${url} answered ${response.status} ${response.statusText}${said ? `: ${said}` : ''}${hint}`);
    }
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new PuppetdbError(`PuppetDB at ${url} answered something that is not JSON (${text.length} bytes); is ${this.base} a PuppetDB?`);
    }
  }
}

/**
 * The user's URL → the base every endpoint hangs off. A path prefix (a PuppetDB behind a proxy) is kept; a
 * trailing `/pdb/query/v4` or `/pdb` is dropped, so pasting an endpoint's URL works too.
 */
export function baseUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new PuppetdbError(`"${redact(text)}" is not a URL; import puppetdb takes the PuppetDB's base URL, such as http://puppetdb:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new PuppetdbError(`${url.protocol}//${url.host}: PuppetDB is read over http or https, such as http://puppetdb:8080`);
  }
  if (url.username || url.password) {
    throw new PuppetdbError(`${url.protocol}//${url.host}: credentials in the URL are not supported (PuppetDB authenticates with client certificates, which this importer does not support yet)`);
  }
  if (url.search || url.hash) {
    throw new PuppetdbError(`${url.origin}${url.pathname}: give the PuppetDB's base URL without a query string or fragment`);
  }
  const path = url.pathname.replace(/\/+$/, '').replace(/\/pdb(\/query(\/v4)?)?$/, '');
  return `${url.origin}${path}`;
}

/** `http://user:secret@host` → `http://…@host`: a mistyped URL may still hold a secret. */
function redact(text: string): string {
  return text.replace(/\/\/[^/@]*@/, '//…@');
}

function networkReason(err: unknown, timeoutMs: number): string {
  const error = err as Error & { cause?: NodeJS.ErrnoException & { code?: string } };
  if (error.name === 'TimeoutError' || error.name === 'AbortError') return `no complete answer within ${Math.round(timeoutMs / 1000)} s`;
  const code = error.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PuppetDB running, and listening on this address and port?)';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'the host name does not resolve';
    case 'ECONNRESET':
      return 'the connection was reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'the host is unreachable';
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
      return `its TLS certificate is not trusted (${code}); give Node the Puppet CA with NODE_EXTRA_CA_CERTS`;
    default:
      if (code === 'EPROTO' || /certificate|handshake/i.test(error.cause?.message ?? '')) {
        return `TLS failed (${error.cause?.message ?? code}); a PuppetDB that requires client certificates is not supported yet`;
      }
      return error.cause?.message ?? error.message;
  }
}
