import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/schema.ts';
import { authenticate, sameSecret } from '../auth.ts';
import type { Principal } from '../context.ts';

/**
 * What every ingest endpoint (design section 6) does before looking at the payload: the write scope (or the
 * shared secret), the method, a JSON content type, and a body read within the size limit. Each helper answers the
 * request itself when it refuses, and returns undefined.
 */

/** The header that carries `ingest.secret`; `?secret=` in the URL is the fallback for tools that set only a URL. */
export const SECRET_HEADER = 'x-faultline-secret';
const SECRET_PRINCIPAL: Principal = { name: 'ingest.secret', scopes: ['write'] };

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The principal when it may write; else 401 (no or unknown token) or 403 (a token without the write scope). */
export function authorizeWrite(req: IncomingMessage, res: ServerResponse, api: Config['api'], secretAccepted = false): Principal | undefined {
  const header = req.headers.authorization;
  const principal = authenticate(header, api);
  if (!principal) {
    const required = `an Authorization: Bearer <token> header${secretAccepted ? ' or an X-Faultline-Secret header' : ''} is required`;
    const error = /^Bearer\s+\S+/i.test(header ?? '') ? 'the bearer token is not valid' : required;
    sendJson(res, 401, { error }, { 'www-authenticate': 'Bearer realm="faultline"' });
    return undefined;
  }
  if (!principal.scopes.includes('write')) {
    sendJson(res, 403, { error: `the token "${principal.name}" lacks the write scope` });
    return undefined;
  }
  return principal;
}

/**
 * Who may ingest: anyone with `api.auth: none`; else a bearer token with the write scope, or the shared secret
 * `ingest.secret` when one is configured. 401 when neither is presented or what was presented is wrong, 403 for a
 * token without the write scope. The secret is never logged nor echoed.
 */
export function authorizeIngest(req: IncomingMessage, res: ServerResponse, config: Pick<Config, 'api' | 'ingest'>): Principal | undefined {
  const { api, ingest } = config;
  if (api.auth === 'none') return authenticate(undefined, api);
  const presented = presentedSecret(req);
  if (presented === undefined) return authorizeWrite(req, res, api, ingest.secret !== undefined);
  if (ingest.secret !== undefined && sameSecret(presented, ingest.secret)) return SECRET_PRINCIPAL;
  // A valid write token next to a wrong secret still writes: the token is the stronger credential.
  if (req.headers.authorization !== undefined) {
    const principal = authenticate(req.headers.authorization, api);
    if (principal?.scopes.includes('write')) return principal;
  }
  const error = ingest.secret === undefined ? 'a shared secret was sent, but none is configured (ingest.secret); use a bearer token' : 'the shared secret is not valid';
  sendJson(res, 401, { error }, { 'www-authenticate': 'Bearer realm="faultline"' });
  return undefined;
}

/** The X-Faultline-Secret header, else the `secret` query parameter; undefined when neither is there. */
function presentedSecret(req: IncomingMessage): string | undefined {
  const header = req.headers[SECRET_HEADER];
  if (typeof header === 'string' && header !== '') return header;
  const query = (req.url ?? '').indexOf('?');
  if (query < 0) return undefined;
  return new URLSearchParams((req.url ?? '').slice(query + 1)).get('secret') ?? undefined;
}


export function allowMethod(req: IncomingMessage, res: ServerResponse, method: string): boolean {
  if (req.method === method) return true;
  sendJson(res, 405, { error: `${req.method} is not allowed here; use ${method}` }, { allow: method });
  return false;
}

const FORM = 'application/x-www-form-urlencoded';

/** The media type of a Content-Type, parameters (charset) aside, in lower case. */
const mediaType = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** `application/json` or any `application/*+json`. */
function isJson(contentType: string | undefined): boolean {
  const type = mediaType(contentType);
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/**
 * The body's bytes, or `{ ok: false }` once the request has been answered: 415 when it is not declared JSON (or,
 * for `form`, application/x-www-form-urlencoded, what Slack's interactivity sends), 413 when it outgrows the
 * limit (the Content-Length was checked before; this guards the bytes). The size limit stays the server's, applied
 * before this runs.
 */
export async function readBodyBytes(req: IncomingMessage, res: ServerResponse, maxBytes: number, type: 'json' | 'form'): Promise<{ ok: true; bytes: Buffer } | { ok: false }> {
  const contentType = req.headers['content-type'];
  if (type === 'json' ? !isJson(contentType) : mediaType(contentType) !== FORM) {
    const expected = type === 'json' ? 'application/json' : FORM;
    sendJson(res, 415, { error: `Content-Type must be ${expected}, got ${contentType ? `"${contentType}"` : 'none'}` });
    return { ok: false };
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > maxBytes) {
        sendJson(res, 413, { error: `request body exceeds the limit of ${maxBytes} bytes` }, { connection: 'close' });
        req.destroy();
        return { ok: false };
      }
      chunks.push(chunk);
    }
  } catch {
    return { ok: false }; // the client went away; nobody to answer
  }
  return { ok: true, bytes: Buffer.concat(chunks) };
}

/** The bytes parsed as JSON, or `{ ok: false }` once the request has been answered with 400. */
export function parseJsonBody(res: ServerResponse, bytes: Buffer): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(bytes.toString('utf8')) };
  } catch (err) {
    sendJson(res, 400, { error: `the body is not valid JSON: ${(err as Error).message}` });
    return { ok: false };
  }
}

/** `readBodyBytes` of JSON, then `parseJsonBody`. */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<{ ok: true; value: unknown } | { ok: false }> {
  const body = await readBodyBytes(req, res, maxBytes, 'json');
  return body.ok ? parseJsonBody(res, body.bytes) : body;
}
