import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { jetstream } from '@nats-io/jetstream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SUBJECTS } from '../../src/bus/layout.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { estate, openIncidents, pages, pipeline, until, type Pipeline } from '../correlator/harness.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { silentLog } from '../support/services.ts';

/**
 * GET /metrics after a real outage, checked by Prometheus's own `promtool check metrics` (Debian's prometheus
 * package; .ci/run installs it).
 */
const PROMTOOL = process.env.FAULTLINE_PROMTOOL ?? '/usr/bin/promtool';
const TOKEN = 'scraper-token-0123456789abcdef';
const WRITER = 'writer-token-0123456789abcdef';

describe('GET /metrics', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let p: Pipeline;
  let server: ApiServer;

  beforeAll(async () => {
    if (!existsSync(PROMTOOL)) throw new Error(`promtool is not installed: ${PROMTOOL} is missing (Debian: apt-get install prometheus; or set FAULTLINE_PROMTOOL)`);
    ({ driver, topology } = await estate());
  });
  afterEach(async () => {
    await server?.close();
    await p?.close();
  });
  afterAll(async () => {
    await driver?.close();
  });

  it('is valid Prometheus text counting events, suppressions, incidents and notifications, and needs a read token', async () => {
    p = await pipeline(topology, {
      api: { port: 0, auth: 'token', tokens: [{ name: 'prometheus', token: TOKEN, scopes: ['read'] }, { name: 'bot', token: WRITER, scopes: ['write'] }] },
    });
    server = await startApiServer({ config: p.config, log: silentLog, neo4j: driver, nats: p.nats, topology, correlation: p.correlator.view, version: 'test' });
    await p.send('mail1.example.com', 'mailq', 'critical');
    await p.send('log1.example.com', 'dns', 'critical');
    await p.nats.publish('faultline.events.test', 'not an event');
    await until('the page delivered', () => openIncidents(p).length === 1 && pages(p).length === 1);

    const scrape = (token?: string) => fetch(`${server.url}/metrics`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    expect((await scrape()).status).toBe(401);
    expect((await scrape(WRITER)).status).toBe(403);
    const res = await scrape(TOKEN);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();

    const check = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    // promtool exits 1 for lint warnings too; it must report no error at all.
    expect(`${check.stdout}${check.stderr}`).not.toMatch(/error/i);

    const value = (line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').at(-1));
    expect(value(/^faultline_events_total\{source="test",status="critical"\}/)).toBe(2);
    expect(value(/^faultline_events_invalid_total /)).toBe(1);
    expect(value(/^faultline_check_events_total\{check="mailq"\}/)).toBe(1);
    expect(value(/^faultline_alerts\{verdict="suppressed"\}/)).toBe(1);
    expect(value(/^faultline_alerts\{verdict="root"\}/)).toBe(1);
    expect(value(/^faultline_suppressed_alerts\{reason="dependency"\}/)).toBe(1);
    expect(value(/^faultline_kv_unreadable_entries\{bucket="faultline-alerts"\}/)).toBe(0);
    expect(value(/^faultline_topology_reload_failures /)).toBe(0);
    expect(value(/^faultline_topology_from_cache /)).toBe(0);
    // DNS down takes mail down: nothing is left at risk, it is down.
    expect(value(/^faultline_services_at_risk /)).toBe(0);
    expect(value(/^faultline_critical_at_risk /)).toBe(0);
    expect(value(/^faultline_incidents\{status="open"\}/)).toBe(1);
    expect(value(/^faultline_storms\{status="open"\}/)).toBe(0);
    expect(value(/^faultline_notifications_total\{channel="hook",kind="page",outcome="delivered"\}/)).toBeGreaterThanOrEqual(1);
    expect(value(/^faultline_topology_entities /)).toBe(topology.current.topology.size);
    expect(value(/^faultline_correlator_lag_events /)).toBe(0);
    expect(value(/^faultline_outbox_pending /)).toBeGreaterThanOrEqual(0);
    expect(value(/^faultline_silences_active /)).toBe(0);
    expect(value(/^faultline_silenced_incidents /)).toBe(0);
    expect(text).toMatch(/^faultline_decision_seconds_bucket\{le="0\.05"\} \d+$/m);

    // The example Grafana dashboard asks only for metrics that exist.
    const dashboard = readFileSync(join(PROJECT_ROOT, 'examples', 'grafana', 'faultline-dashboard.json'), 'utf8');
    const asked = new Set([...dashboard.matchAll(/faultline_[a-z_]+/g)].map((m) => m[0].replace(/_bucket$/, '')));
    const exposed = new Set([...text.matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    expect([...asked].filter((name) => !exposed.has(name))).toEqual([]);
    // So do the example alerting rules, which Prometheus's own checker accepts.
    const rulesFile = join(PROJECT_ROOT, 'examples', 'prometheus', 'faultline-alerts.yml');
    const rules = spawnSync(PROMTOOL, ['check', 'rules', rulesFile], { encoding: 'utf8' });
    expect(rules.status, `${rules.stdout}${rules.stderr}`).toBe(0);
    const alerted = new Set([...readFileSync(rulesFile, 'utf8').matchAll(/faultline_[a-z_]+/g)].map((m) => m[0]));
    expect([...alerted].filter((name) => !exposed.has(name))).toEqual([]);

    // A silence of the DNS alert covers the open incident: both counted.
    const now = Date.now();
    await p.correlator.view.silences.put('sil-00000000000000cc', { id: 'sil-00000000000000cc', host: 'log1.example.com', check: 'dns', tags: {}, start: now - 1_000, end: now + 60_000, comment: 'test', createdBy: 'test', createdAt: now }, undefined);
    await until('the incident silenced', () => openIncidents(p)[0]?.silencedBy);
    const muted = await (await scrape(TOKEN)).text();
    expect(muted).toMatch(/^faultline_silences_active 1$/m);
    expect(muted).toMatch(/^faultline_silenced_incidents 1$/m);

    // Critical equipment one failure from down, over the open incidents (this one as a later copy of the DNS one, which
    // the correlator leaves open while its root alert fails).
    const dns = openIncidents(p)[0]!;
    await p.correlator.view.incidents.put('inc-00000000000000dd', { ...dns, id: 'inc-00000000000000dd', openedAt: dns.openedAt + 1, criticalAtRisk: ['db2.example.com', 'db2.example.com::Service[mysqld]'] }, undefined);
    await until('the copy mirrored', () => p.correlator.view.incidents.get('inc-00000000000000dd'));
    expect(await (await scrape(TOKEN)).text()).toMatch(/^faultline_critical_at_risk 2$/m);

    // A notification for a channel no running notifier serves waits in the outbox: counted and aged per channel.
    const before = Date.now();
    await jetstream(p.nats).publish(SUBJECTS.outbox('night shift'), JSON.stringify({ channel: 'night shift', notification: pages(p)[0] }));
    await new Promise((r) => setTimeout(r, 1_100));
    const later = await (await scrape(TOKEN)).text();
    const at = (line: RegExp) => Number(later.split('\n').find((l) => line.test(l))?.split(' ').at(-1));
    expect(at(/^faultline_outbox_channel_pending\{channel="night shift"\}/)).toBe(1);
    const age = at(/^faultline_outbox_oldest_age_seconds\{channel="night shift"\}/);
    expect(age).toBeGreaterThanOrEqual(1);
    expect(age).toBeLessThanOrEqual((Date.now() - before) / 1000 + 1);
    expect(at(/^faultline_outbox_pending /)).toBeGreaterThanOrEqual(1);
  });
});
