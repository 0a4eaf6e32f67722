import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Config } from '../../config/schema.ts';
import { authenticate } from '../auth.ts';
import type { Principal } from '../context.ts';

/**
 * What every ingest endpoint (design section 6) does before looking at the payload: the write scope, the
 * method, a JSON content type, and a body read within the size limit. Each helper answers the request itself
 * when it refuses, and returns undefined.
 */

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** The principal when it may write; else 401 (no or unknown token) or 403 (a token without the write scope). */
export function authorizeWrite(req: IncomingMessage, res: ServerResponse, api: Config['api']): Principal | undefined {
  const header = req.headers.authorization;
  const principal = authenticate(header, api);
  if (!principal) {
    const error = /^Bearer\s+\S+/i.test(header ?? '') ? 'the bearer token is not valid' : 'an Authorization: Bearer <token> header is required';
    sendJson(res, 401, { error }, { 'www-authenticate': 'Bearer realm="faultline"' });
    return undefined;
  }
  if (!principal.scopes.includes('write')) {
    sendJson(res, 403, { error: `the token "${principal.name}" lacks the write scope` });
    return undefined;
  }
  return principal;
}

export function allowMethod(req: IncomingMessage, res: ServerResponse, method: string): boolean {
  if (req.method === method) return true;
  sendJson(res, 405, { error: `${req.method} is not allowed here; use ${method}` }, { allow: method });
  return false;
}

/** `application/json` or any `application/*+json`, parameters (charset) aside. */
function isJson(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.!#$&^_-]+\+json$/.test(type);
}

/**
 * The body parsed as JSON, or `{ ok: false }` once the request has been answered: 415 when it is not declared
 * JSON, 413 when it outgrows the limit (the Content-Length was checked before; this guards the bytes), 400 when
 * it does not parse. The size limit stays the server's, applied before this runs.
 */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<{ ok: true; value: unknown } | { ok: false }> {
  if (!isJson(req.headers['content-type'])) {
    sendJson(res, 415, { error: `Content-Type must be application/json, got ${req.headers['content-type'] ? `"${req.headers['content-type']}"` : 'none'}` });
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
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch (err) {
    sendJson(res, 400, { error: `the body is not valid JSON: ${(err as Error).message}` });
    return { ok: false };
  }
}
