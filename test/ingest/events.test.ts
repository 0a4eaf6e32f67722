import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import type { ApiServices } from '../../src/api/context.ts';
import { MAX_EVENTS_PER_REQUEST } from '../../src/api/ingest/events.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { ensureLayout, STREAMS } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import { CorrelationView } from '../../src/correlator/view.ts';
import { freshGraph, freshNats, loadedTopology, silentLog, testConfig } from '../support/services.ts';
import { freshEventStreams, storedMessages } from './stored.ts';
import { postJson } from './api.ts';

const WRITER = 'write-token-0123456789abcdef';
const READER = 'read-token-0123456789abcdef';

const db1 = { source: 'nagios', host: 'db1.example.com', check: 'mysql', status: 'critical', text: 'connection refused' };

async function post(server: ApiServer, body: unknown, headers: Record<string, string> = { authorization: `Bearer ${WRITER}` }, contentType = 'application/json') {
  const res = await fetch(`${server.url}/ingest/events`, {
    method: 'POST',
    headers: { 'content-type': contentType, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

describe('POST /ingest/events on a real API server and JetStream', () => {
  const config = testConfig({
    api: {
      port: 0,
      auth: 'token',
      tokens: [
        { name: 'nagios', token: WRITER, scopes: ['write'] },
        { name: 'noc', token: READER, scopes: ['read'] },
      ],
      maxBodyBytes: 200_000,
    },
  });
  let services: ApiServices;
  let server: ApiServer;
  let nc: NatsConnection;
  const events = () => storedMessages(nc, STREAMS.events.name);
  const dead = () => storedMessages(nc, STREAMS.dead.name);

  beforeAll(async () => {
    const neo4j = await freshGraph();
    nc = await freshNats();
    const topology = await loadedTopology(neo4j);
    await ensureLayout(nc);
    services = { config, log: silentLog, neo4j, nats: nc, topology, correlation: await CorrelationView.open(nc, topology, config.correlator), version: 'test' };
    server = await startApiServer(services);
  });
  beforeEach(() => freshEventStreams(nc));
  afterAll(async () => {
    await server?.close();
    services?.correlation.stop();
    await nc?.close();
    await services?.neo4j.close();
  });

  it('answers PagerDuty webhooks with 404 naming the setting while no signing secret is configured', async () => {
    const res = await postJson(`${server.url}/ingest/pagerduty`, { event: { id: '1', event_type: 'incident.acknowledged' } }, { 'x-pagerduty-signature': 'v1=00' });
    expect(res).toMatchObject({ status: 404, body: { error: 'PagerDuty webhooks are not configured here (ingest.pagerduty.secret)' } });
  });

  it('stores a valid event on faultline.events.<source> as sent, with the time of receipt added', async () => {
    const before = Date.now();
    const res = await post(server, db1);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 1, duplicates: 0 });
    const stored = await events();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.subject).toBe('faultline.events.nagios');
    const { time, ...rest } = stored[0]!.body;
    expect(rest).toEqual(db1);
    expect(Date.parse(time)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(time)).toBeLessThanOrEqual(Date.now());
  });

  it('keeps the producer time, and files an event without a source under faultline.events.http', async () => {
    const event = { host: 'web1.example.com', check: 'http', status: 2, time: '2026-11-21T10:00:00Z', tags: { dc: 'dc1' } };
    expect((await post(server, [event])).status).toBe(202);
    const [stored] = await events();
    expect(stored!.subject).toBe('faultline.events.http');
    expect(stored!.body).toEqual(event);
  });

  it('stores an event with the same id once, and says the repeat was a duplicate', async () => {
    const event = { ...db1, id: 'nagios-4711' };
    expect((await post(server, event)).body).toEqual({ accepted: 1, duplicates: 0 });
    expect((await post(server, event)).body).toEqual({ accepted: 1, duplicates: 1 });
    expect((await post(server, [event, { ...event, status: 'ok' }])).body).toEqual({ accepted: 2, duplicates: 2 });
    const stored = await events();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.msgId).toBe('nagios-4711');
  });

  it('answers 422 naming the invalid events, dead-letters them with reason and body, and still stores the valid ones', async () => {
    const bad = { host: 'db2.example.com', check: 'mysql', status: 'on fire' };
    const res = await post(server, [db1, bad, { ...db1, host: 'db3.example.com' }]);
    expect(res.status).toBe(422);
    expect(res.body.accepted).toBe(2);
    expect(res.body.duplicates).toBe(0);
    expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(/^status: expected ok, warning, critical, unknown or 0-3, got "on fire"$/) }]);

    expect((await events()).map((m) => m.body.host)).toEqual(['db1.example.com', 'db3.example.com']);
    const letters = await dead();
    expect(letters).toHaveLength(1);
    expect(letters[0]!.subject).toBe('faultline.dead.events');
    expect(letters[0]!.body).toMatchObject({ reason: res.body.rejected[0].reason, via: 'POST /ingest/events', body: bad });
    expect(Number.isNaN(Date.parse(letters[0]!.body.receivedAt))).toBe(false);
  });

  it('refuses a single invalid event with 422, unknown fields and a non-object included', async () => {
    const res = await post(server, [{ ...db1, sevrity: 'high' }, 'db1 is down']);
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      accepted: 0,
      duplicates: 0,
      rejected: [
        { index: 0, reason: 'unknown field "sevrity"' },
        { index: 1, reason: 'expected object, received string' },
      ],
    });
    expect(await events()).toHaveLength(0);
    expect((await dead()).map((m) => m.body.body)).toEqual([{ ...db1, sevrity: 'high' }, 'db1 is down']);
  });

  it('refuses malformed JSON (400), another content type (415), an empty array (400) and too many events (413), storing nothing', async () => {
    const malformed = await post(server, '{"host": "db1.example.com",');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^the body is not valid JSON: /);

    const text = await post(server, JSON.stringify(db1), undefined, 'text/plain');
    expect(text.status).toBe(415);
    expect(text.body.error).toBe('Content-Type must be application/json, got "text/plain"');
    expect((await post(server, db1, undefined, 'application/json; charset=utf-8')).status).toBe(202);

    const empty = await post(server, []);
    expect(empty.status).toBe(400);
    expect(empty.body.error).toBe('the array holds no events');

    const many = await post(server, Array.from({ length: MAX_EVENTS_PER_REQUEST + 1 }, () => ({})));
    expect(many.status).toBe(413);
    expect(many.body.error).toBe(`${MAX_EVENTS_PER_REQUEST + 1} events in one request exceeds the limit of ${MAX_EVENTS_PER_REQUEST}; send them in smaller batches`);

    expect(await events()).toHaveLength(1);
    expect(await dead()).toHaveLength(0);
  });

  it('requires a bearer token with the write scope', async () => {
    const none = await post(server, db1, {});
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('an Authorization: Bearer <token> header is required');
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="faultline"');

    const wrong = await post(server, db1, { authorization: 'Bearer not-the-token-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('the bearer token is not valid');

    const readOnly = await post(server, db1, { authorization: `Bearer ${READER}` });
    expect(readOnly.status).toBe(403);
    expect(readOnly.body.error).toBe('the token "noc" lacks the write scope');

    const secret = await post(server, db1, { 'x-faultline-secret': 'a-secret-nobody-configured' });
    expect(secret.status).toBe(401);
    expect(secret.body.error).toBe('a shared secret was sent, but none is configured (ingest.secret); use a bearer token');

    expect(await events()).toHaveLength(0);
    expect(await dead()).toHaveLength(0);
  });

  it('is open with auth: none', async () => {
    const open = await startApiServer({ ...services, config: { ...config, api: { ...config.api, auth: 'none' } } });
    try {
      expect((await post(open, db1, {})).status).toBe(202);
    } finally {
      await open.close();
    }
    expect(await events()).toHaveLength(1);
  });

  it('refuses an event larger than a NATS message, and dead-letters it with its body truncated', async () => {
    const big = await startApiServer({ ...services, config: { ...config, api: { ...config.api, maxBodyBytes: 4_000_000 } } });
    const maxPayload = nc.info!.max_payload;
    try {
      const large = { ...db1, tags: { blob: 'x'.repeat(1000), more: 'y'.repeat(1000) }, entity: 'z'.repeat(1000) };
      const tooLarge = { ...db1, tags: Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, 'v'.repeat(1000)])) };
      const res = await post(big, [large, tooLarge]);
      expect(res.status).toBe(422);
      expect(res.body.rejected).toEqual([{ index: 1, reason: expect.stringMatching(new RegExp(`^the event is \\d+ bytes of JSON; the limit is ${maxPayload - 512} \\(NATS max_payload\\)$`)) }]);
      const [letter] = await dead();
      expect(letter!.body.reason).toMatch(/^the event is \d+ bytes of JSON.*\(body truncated to its first \d+ characters\)$/);
      expect(typeof letter!.body.body).toBe('string');
      expect(letter!.body.body.startsWith('{"source":"nagios"')).toBe(true);
      expect(await events()).toHaveLength(1);
    } finally {
      await big.close();
    }
  });

  it('answers 405 to other methods', async () => {
    const res = await fetch(`${server.url}/ingest/events`, { headers: { authorization: `Bearer ${WRITER}` } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('stores a large batch in order', async () => {
    const batch = Array.from({ length: 2_000 }, (_, i) => ({ host: `h${i}`, check: 'ping', status: 'ok' }));
    const res = await post(server, batch);
    expect(res.body).toEqual({ accepted: 2_000, duplicates: 0 });
    expect((await events()).map((m) => m.body.host)).toEqual(batch.map((e) => e.host));
  });

  it('answers 503 with a clear message when no stream stores events', async () => {
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(STREAMS.events.name);
    const res = await post(server, db1);
    expect(res.status).toBe(503);
    expect(res.body).toEqual({
      error: 'events could not be stored: no JetStream stream stores faultline.events.nagios (faultline serve creates the streams at start)',
      accepted: 0,
      duplicates: 0,
    });
  });

  it('answers 503 with a clear message when the NATS connection is gone', async () => {
    const lost = await connectNats(config.nats.url);
    await lost.close();
    const cut = await startApiServer({ ...services, nats: lost });
    try {
      const res = await post(cut, [db1, { host: 'x', check: 'y', status: 'nope' }]);
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'events could not be stored: the connection to NATS is closed', accepted: 0, duplicates: 0 });
    } finally {
      await cut.close();
    }
    expect(await events()).toHaveLength(0);
  });
});
