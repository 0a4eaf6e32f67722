import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { alertKey } from '../../src/correlator/alert.ts';
import { Correlator } from '../../src/correlator/correlator.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { silentLog } from '../support/services.ts';
import { estate, openIncidents, pages, pipeline, sleep, until, type Pipeline } from './harness.ts';

/** Dead-man's switches, flapping and actions (design sections 6 and 7), on the real-Puppet estate and real NATS. */
describe('heartbeats, flapping and actions', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let p: Pipeline;
  const status = (id: string) => p.correlator.view.alerts.get(alertKey(id))?.value;

  beforeAll(async () => {
    ({ driver, topology } = await estate());
  });
  afterEach(async () => {
    await p?.close();
  });
  afterAll(async () => {
    await driver?.close();
  });

  it('raise +1s: a heartbeat refreshed in time raises nothing; one that stops raises, and pages', async () => {
    p = await pipeline(topology);
    await p.send('db1.example.com', 'backup', 'critical', { raise: '+1s', text: 'nightly backup' });
    await until('the alert stored', () => status('db1.example.com/backup'));
    expect(status('db1.example.com/backup')).toMatchObject({ status: 'ok', pendingStatus: 'critical' });
    await sleep(600);
    await p.send('db1.example.com', 'backup', 'critical', { raise: '+1s' });
    await sleep(700);
    expect(status('db1.example.com/backup')?.status).toBe('ok'); // refreshed before the first deadline
    await until('the heartbeat raised', () => status('db1.example.com/backup')?.status === 'critical', 5_000);
    const incident = await until('an incident', () => openIncidents(p)[0]);
    expect(incident.rootAlerts).toEqual(['db1.example.com/backup']);
    await until('a page for dba', () => pages(p).find((n) => n.team === 'team:dba'));
  });

  it('ttl: a silent alert goes stale (critical), and retire ends the expectation', async () => {
    p = await pipeline(topology);
    await p.send('web1.example.com', 'http', 'ok', { ttl: '1s' });
    await until('stale', () => status('web1.example.com/http')?.stale === true, 5_000);
    expect(status('web1.example.com/http')).toMatchObject({ status: 'critical', text: expect.stringContaining('stale') });
    await p.send('web1.example.com', 'http', 'ok', { retire: true });
    await until('retired', () => status('web1.example.com/http')?.status === 'ok');
    expect(status('web1.example.com/http')?.ttlMs).toBeUndefined();
    await sleep(1_800);
    expect(status('web1.example.com/http')).toMatchObject({ status: 'ok' });
    expect(status('web1.example.com/http')?.stale).toBeFalsy();
  });

  it('a deadline survives a restart: kept in KV, the next correlator raises it', async () => {
    p = await pipeline(topology);
    await p.send('db2.example.com', 'backup', 'critical', { raise: '+1500ms' });
    await until('the alert stored', () => status('db2.example.com/backup'));
    await p.correlator.stop();
    const next = await Correlator.start({ config: p.config, log: silentLog, nats: p.nats, topology, refreshPersistMs: 300 });
    try {
      await until('raised by the new correlator', () => next.view.alerts.get(alertKey('db2.example.com/backup'))?.value.status === 'critical', 8_000);
    } finally {
      await next.stop();
    }
  });

  it('a flapping alert pages nobody until it settles', async () => {
    p = await pipeline(topology, { correlator: { settle: '300ms', leaderLease: '2s', ackWait: '5s', flapping: { changes: 3, window: '2s' } } });
    const base = Date.now();
    for (let i = 0; i < 6; i++) {
      await p.send('lb1.example.com', 'haproxy', i % 2 === 0 ? 'critical' : 'ok', { time: new Date(base + i * 100).toISOString() });
    }
    await p.send('lb1.example.com', 'haproxy', 'critical', { time: new Date(base + 700).toISOString() });
    await until('decided', () => p.decision('lb1.example.com/haproxy')?.verdict === 'root');
    await sleep(1_000); // past the settle window, still flapping
    expect(openIncidents(p)).toEqual([]);
    expect(pages(p)).toEqual([]);
    // Once fewer than three changes fall in the last two seconds, it is believed: one incident, one page.
    await until('the page once it settled', () => pages(p).find((n) => n.team === 'team:web-team'), 5_000);
    // The page is enqueued before the incident is written (reconciler.ts), so it may arrive first.
    await until('its incident', () => openIncidents(p).length > 0);
    await sleep(500);
    expect(openIncidents(p)).toHaveLength(1);
    expect(pages(p)).toHaveLength(1);
  });

  it('an action reaches its subject with the incident and the dependents it names', async () => {
    p = await pipeline(topology, { actions: [{ name: 'stop-exim', when: { root: 'log1.example.com::*' }, dependents: '*::Service[exim4]' }] });
    const received: unknown[] = [];
    const sub = p.nats.subscribe('faultline.actions.>', {
      callback: (_, m) => {
        received.push({ subject: m.subject, ...(m.json() as object) });
      },
    });
    try {
      await p.send('log1.example.com', 'dns', 'critical');
      const incident = await until('an incident', () => openIncidents(p)[0]);
      await until('the action', () => received.length > 0);
      expect(received[0]).toMatchObject({
        subject: 'faultline.actions.stop-exim',
        action: 'stop-exim',
        incident: { id: incident.id, root: ['log1.example.com::Service[unbound]'] },
        dependents: ['mail1.example.com::Service[exim4]', 'mail2.example.com::Service[exim4]'],
      });
    } finally {
      sub.unsubscribe();
    }
  });

  it('forgets resolved incidents, ended maintenance windows and ended silences past retention, and nothing open', async () => {
    p = await pipeline(topology, { correlator: { settle: '300ms', leaderLease: '2s', ackWait: '5s', retention: '1s' } });
    await p.send('lb1.example.com', 'haproxy', 'critical');
    const first = await until('an incident', () => openIncidents(p)[0]);
    await p.send('lb1.example.com', 'haproxy', 'ok');
    await until('resolved', () => p.incidents().find((i) => i.id === first.id && i.status === 'resolved'));
    await p.send('db1.example.com', 'mysql', 'critical');
    const open = await until('a second incident', () => openIncidents(p).find((i) => i.id !== first.id));
    const now = Date.now();
    const ended = { id: 'mw-ended', entities: ['db2.example.com'], start: now - 10_000, end: now - 5_000, createdBy: 'test', createdAt: now - 10_000 };
    await p.correlator.view.maintenance.put(ended.id, ended, undefined);
    const silence = (id: string, end: number) => ({ id, host: 'web*', check: '*', tags: {}, start: now - 10_000, end, comment: 'test', createdBy: 'test', createdAt: now - 10_000 });
    await p.correlator.view.silences.put('sil-ended', silence('sil-ended', now - 5_000), undefined);
    await p.correlator.view.silences.put('sil-current', silence('sil-current', now + 60_000), undefined);
    await sleep(1_100);

    expect(await p.correlator.housekeeping.sweep()).toEqual({ incidents: 1, windows: 1, silences: 1 });
    expect(p.incidents().map((i) => i.id)).toEqual([open.id]);
    expect(p.correlator.view.maintenance.get('mw-ended')).toBeUndefined();
    expect(p.correlator.view.silences.get('sil-ended')).toBeUndefined();
    expect(p.correlator.view.silences.get('sil-current')).toBeDefined();
  });
});
