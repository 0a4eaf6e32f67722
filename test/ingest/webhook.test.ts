import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { itemToEvent, resolve } from '../../src/api/ingest/webhook-map.ts';
import { STREAMS } from '../../src/bus/layout.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/log.ts';
import { postJson, READER, startIngestApi, WRITER } from './api.ts';
import { freshEventStreams, storedMessages } from './stored.ts';

const SECRET = 'shared-secret-0123456789abcdef';

/** Grafana-style: several alerts in one body, each with labels. */
const grafana = {
  name: 'grafana',
  items: '$.alerts',
  host: '$.labels.host',
  check: '$.labels.alertname',
  status: '$.status',
  statusMap: { firing: 'critical', resolved: 'ok' },
  text: '$.annotations.summary',
  runbook: '$.annotations.runbook_url',
  time: '$.startsAt',
  id: ['$.fingerprint', '$.status'],
  tags: '$.labels',
};
/** Uptime-Kuma-style: one body is one event; the check is a constant, the status a number of its own. */
const uptime = {
  name: 'uptime',
  source: 'kuma',
  host: '$.monitor.hostname',
  check: 'uptime',
  status: '$.heartbeat.status',
  statusMap: { '0': 'critical', '1': 'ok' },
  text: '$.msg',
  time: '$.heartbeat.time',
  tags: { monitor: '$.monitor.name', sender: '$$.sender', missing: '$.nowhere' },
};

const grafanaBody = (alerts: unknown[]) => ({ receiver: 'faultline', status: 'firing', alerts });
const db1Alert = {
  status: 'firing',
  labels: { alertname: 'HighLatency', host: 'db1.example.com', team: 'dba' },
  annotations: { summary: 'p99 above 2s', runbook_url: 'https://runbooks.example.com/latency' },
  startsAt: '2026-11-21T10:00:00Z',
  fingerprint: 'f00d',
};

describe('webhook field mappings', () => {
  const mapping = configSchema.parse({ ingest: { webhooks: [grafana, uptime] } }).ingest.webhooks;

  it('resolves paths into the item, into the whole body, through arrays, and constants', () => {
    const body = { receiver: 'r', alerts: [{ labels: { host: 'h1' } }, { tags: ['a', 'b'] }] };
    expect(resolve('$.labels.host', body.alerts[0], body)).toEqual({ found: true, value: 'h1' });
    expect(resolve('$$.receiver', body.alerts[0], body)).toEqual({ found: true, value: 'r' });
    expect(resolve('$$.alerts.1.tags.0', body.alerts[0], body)).toEqual({ found: true, value: 'a' });
    expect(resolve('$.alerts.2', body, body)).toEqual({ found: false });
    expect(resolve('$.labels.toString', body.alerts[0], body)).toEqual({ found: false });
    expect(resolve('$', 'x', body)).toEqual({ found: true, value: 'x' });
    expect(resolve('uptime', body, body)).toEqual({ found: true, value: 'uptime' });
  });

  it('maps an item, with statusMap, tags from an object, and an id joined from several fields', () => {
    expect(itemToEvent(mapping[0]!, db1Alert, grafanaBody([db1Alert]))).toEqual({
      event: {
        source: 'grafana',
        host: 'db1.example.com',
        check: 'HighLatency',
        status: 'critical',
        text: 'p99 above 2s',
        runbook: 'https://runbooks.example.com/latency',
        time: '2026-11-21T10:00:00Z',
        id: 'f00d:firing',
        tags: { alertname: 'HighLatency', host: 'db1.example.com', team: 'dba' },
      },
    });
  });

  it('takes numbers: statusMap keys as text, Unix seconds and milliseconds as times; leaves missing optional fields out', () => {
    const body = { sender: 'kuma-1', msg: 'timeout', monitor: { hostname: 'web1', name: 'web1 http' }, heartbeat: { status: 0, time: 1_795_000_000 } };
    expect(itemToEvent(mapping[1]!, body, body)).toEqual({
      event: { source: 'kuma', host: 'web1', check: 'uptime', status: 'critical', text: 'timeout', time: new Date(1_795_000_000_000).toISOString(), tags: { monitor: 'web1 http', sender: 'kuma-1' } },
    });
    const ms = { ...body, msg: '', heartbeat: { status: 1, time: 1_795_000_000_123 } };
    expect(itemToEvent(mapping[1]!, ms, ms)).toEqual({
      event: { source: 'kuma', host: 'web1', check: 'uptime', status: 'ok', time: new Date(1_795_000_000_123).toISOString(), tags: { monitor: 'web1 http', sender: 'kuma-1' } },
    });
  });

  it('refuses a time that is there but is no time, naming it, rather than putting the time of receipt in its place', () => {
    const at = (time: unknown) => ({ sender: 'kuma-1', msg: 'timeout', monitor: { hostname: 'web1', name: 'web1 http' }, heartbeat: { status: 0, time } });
    expect(itemToEvent(mapping[1]!, at(1e20), at(1e20))).toEqual({ reason: 'time: $.heartbeat.time is 100000000000000000000, which is no date (Unix seconds or milliseconds)' });
    expect(itemToEvent(mapping[1]!, at(true), at(true))).toEqual({ reason: 'time: $.heartbeat.time is a boolean, not a time (ISO 8601, or Unix seconds or milliseconds)' });
    expect(itemToEvent(mapping[1]!, at({ s: 1 }), at({ s: 1 }))).toEqual({ reason: 'time: $.heartbeat.time is an object, not a time (ISO 8601, or Unix seconds or milliseconds)' });
  });

  it('passes words statusMap does not list through to the event rules (Nagios words included)', () => {
    const down = { ...db1Alert, status: 'DOWN' };
    expect(itemToEvent(mapping[0]!, down, {})).toMatchObject({ event: { status: 'DOWN' } });
    expect(itemToEvent(mapping[0]!, { ...db1Alert, status: 'RESOLVED' }, {})).toMatchObject({ event: { status: 'ok' } });
  });

  it('names every required field that is missing or not a value', () => {
    const item = { status: 'firing', labels: { host: { name: 'db1' } } };
    expect(itemToEvent(mapping[0]!, item, {})).toEqual({ reason: 'host: $.labels.host is an object, not a string; check: $.labels.alertname is missing' });
  });
});

describe('POST /ingest/webhook/<name> and the shared secret, on a real API server and JetStream', () => {
  let api: Awaited<ReturnType<typeof startIngestApi>>;
  const logged = new PassThrough();
  let logText = '';
  logged.on('data', (d: Buffer) => (logText += d.toString()));
  const events = () => storedMessages(api.nc, STREAMS.events.name);
  const dead = () => storedMessages(api.nc, STREAMS.dead.name);
  const url = (path: string) => `${api.server.url}${path}`;

  beforeAll(async () => {
    // Everything the endpoints log is kept, to show that the secret is never in it.
    api = await startIngestApi({ ingest: { secret: SECRET, webhooks: [grafana, uptime] } }, createLogger('trace', logged));
  });
  beforeEach(() => freshEventStreams(api.nc));
  afterAll(() => api?.close());

  it('stores one event per item on faultline.events.<name>', async () => {
    const web1 = { ...db1Alert, status: 'resolved', labels: { alertname: 'HighLatency', host: 'web1.example.com' }, fingerprint: 'beef' };
    const res = await postJson(url('/ingest/webhook/grafana'), grafanaBody([db1Alert, web1]));
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ accepted: 2, duplicates: 0 });
    const stored = await events();
    expect(stored.map((m) => [m.subject, m.body.host, m.body.status, m.msgId])).toEqual([
      ['faultline.events.grafana', 'db1.example.com', 'critical', 'f00d:firing'],
      ['faultline.events.grafana', 'web1.example.com', 'ok', 'beef:resolved'],
    ]);
  });

  it('dead-letters an item whose mapped field is missing, with the reason, and stores the others', async () => {
    const noHost = { ...db1Alert, labels: { alertname: 'HighLatency' } };
    const badStatus = { ...db1Alert, status: 'pending' };
    const res = await postJson(url('/ingest/webhook/grafana'), grafanaBody([noHost, db1Alert, badStatus]));
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      accepted: 1,
      duplicates: 0,
      rejected: [
        { index: 0, reason: 'host: $.labels.host is missing' },
        { index: 2, reason: 'status: expected ok, warning, critical, unknown or 0-3, got "pending"' },
      ],
    });
    expect((await events()).map((m) => m.body.host)).toEqual(['db1.example.com']);
    expect((await dead()).map((m) => [m.body.via, m.body.reason, m.body.body])).toEqual([
      ['POST /ingest/webhook/grafana', 'host: $.labels.host is missing', noHost],
      ['POST /ingest/webhook/grafana', 'status: expected ok, warning, critical, unknown or 0-3, got "pending"', badStatus],
    ]);
  });

  it('takes a body that is one event, under its configured source', async () => {
    const body = { sender: 'kuma-1', msg: 'timeout', monitor: { hostname: 'web1', name: 'web1 http' }, heartbeat: { status: 0, time: '2026-11-21T10:00:00Z' } };
    const res = await postJson(url('/ingest/webhook/uptime'), body);
    expect(res.status).toBe(202);
    const [stored] = await events();
    expect(stored!.subject).toBe('faultline.events.kuma');
    expect(stored!.body).toEqual({ source: 'kuma', host: 'web1', check: 'uptime', status: 'critical', text: 'timeout', time: '2026-11-21T10:00:00Z', tags: { monitor: 'web1 http', sender: 'kuma-1' } });
  });

  it('answers 404 naming an unknown webhook, 400 when the items are not an array, storing nothing', async () => {
    const unknown = await postJson(url('/ingest/webhook/grafna'), grafanaBody([db1Alert]));
    expect(unknown.status).toBe(404);
    expect(unknown.body.error).toBe('no webhook named "grafna" is configured (ingest.webhooks); configured: grafana, uptime');

    const notArray = await postJson(url('/ingest/webhook/grafana'), { alerts: { one: db1Alert } });
    expect(notArray.status).toBe(400);
    expect(notArray.body.error).toBe('$.alerts (items of webhook "grafana") is an object, not an array');
    const none = await postJson(url('/ingest/webhook/grafana'), { receiver: 'x' });
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('$.alerts (items of webhook "grafana") is missing from the body');
    const malformed = await postJson(url('/ingest/webhook/grafana'), '{"alerts": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^the body is not valid JSON: /);

    expect(await events()).toHaveLength(0);
    expect(await dead()).toHaveLength(0);
  });

  it('takes the shared secret in the X-Faultline-Secret header or the secret query parameter, on every ingest endpoint', async () => {
    const header = { 'x-faultline-secret': SECRET };
    expect((await postJson(url('/ingest/webhook/grafana'), grafanaBody([db1Alert]), header)).status).toBe(202);
    const other = { ...db1Alert, fingerprint: 'cafe' };
    expect((await postJson(url(`/ingest/webhook/grafana?secret=${encodeURIComponent(SECRET)}`), grafanaBody([other]), {})).status).toBe(202);
    expect((await postJson(url('/ingest/events'), { host: 'h1', check: 'c', status: 'OK' }, header)).status).toBe(202);
    const am = { version: '4', receiver: 'faultline', status: 'firing', alerts: [{ status: 'firing', labels: { alertname: 'A', instance: 'h2:9100' }, annotations: {}, startsAt: '2026-11-21T10:00:00Z' }] };
    expect((await postJson(url(`/ingest/alertmanager?secret=${SECRET}`), am, {})).status).toBe(202);
    expect((await events()).map((m) => m.body.host)).toEqual(['db1.example.com', 'db1.example.com', 'h1', 'h2']);
  });

  it('refuses a wrong secret, no credentials and a read-only token; a write token still works', async () => {
    const body = grafanaBody([db1Alert]);
    const wrong = await postJson(url('/ingest/webhook/grafana'), body, { 'x-faultline-secret': 'not-the-secret-at-all' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error).toBe('the shared secret is not valid');
    const wrongQuery = await postJson(url('/ingest/webhook/grafana?secret=nope'), body, {});
    expect(wrongQuery.status).toBe(401);
    const none = await postJson(url('/ingest/webhook/grafana'), body, {});
    expect(none.status).toBe(401);
    expect(none.body.error).toBe('an Authorization: Bearer <token> header or an X-Faultline-Secret header is required');
    // Unknown names are not revealed without credentials.
    expect((await postJson(url('/ingest/webhook/nosuch'), body, {})).status).toBe(401);
    const reader = await postJson(url('/ingest/webhook/grafana'), body, { authorization: `Bearer ${READER}` });
    expect(reader.status).toBe(403);
    expect((await postJson(url('/ingest/webhook/grafana'), body, { authorization: `Bearer ${WRITER}`, 'x-faultline-secret': 'wrong' })).status).toBe(202);
    expect(await events()).toHaveLength(1);
  });

  it('never writes the secret to the log', async () => {
    await postJson(url(`/ingest/webhook/grafana?secret=${SECRET}`), grafanaBody([{ labels: {} }]), {});
    await postJson(url('/ingest/events'), [{ host: 'x' }], { 'x-faultline-secret': SECRET });
    await postJson(url('/ingest/webhook/grafana'), {}, { 'x-faultline-secret': `${SECRET}x` });
    await new Promise((resolve) => setImmediate(resolve));
    expect(logText).toContain('events refused');
    expect(logText).not.toContain(SECRET);
  });
});

describe('ingest with api.auth: none', () => {
  it('is open to everyone, whatever secret is sent', async () => {
    const api = await startIngestApi({ api: { port: 0, auth: 'none' }, ingest: { secret: SECRET, webhooks: [uptime] } });
    try {
      const body = { monitor: { hostname: 'web1' }, heartbeat: { status: 1 } };
      expect((await postJson(`${api.server.url}/ingest/webhook/uptime`, body, {})).status).toBe(202);
      expect((await postJson(`${api.server.url}/ingest/webhook/uptime`, body, { 'x-faultline-secret': 'wrong' })).status).toBe(202);
    } finally {
      await api.close();
    }
  });
});
