import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../src/correlator/alert.ts';
import { describeSilence, expired, incidentSilence, newSilence, SilenceError, Silences, type Silence } from '../../src/correlator/silence.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { estate, openIncidents, pages, pipeline, sleep, until, type Pipeline } from './harness.ts';

const NOW = Date.parse('2026-12-07T12:00:00Z');
const HOUR = 3_600_000;

const alert = (host: string, check: string, tags: Record<string, string> = {}): AlertRecord => ({
  id: `${host}/${check}`,
  host,
  check,
  status: 'critical',
  since: NOW,
  time: NOW,
  seq: 1,
  source: 'test',
  tags,
});

describe('silences', () => {
  it('match alerts by host and check globs and tags, only while in force', () => {
    const disks = newSilence({ host: 'web*', check: 'disk-*', start: NOW - HOUR, end: NOW + HOUR, comment: 'known, ticket 123' }, NOW, 'alice');
    const dc1 = newSilence({ check: 'ntp', tags: { dc: 'dc1' }, start: NOW, end: NOW + HOUR, comment: 'ntp moving' }, NOW, 'bob');
    const later = newSilence({ host: 'db1.example.com', start: NOW + HOUR, end: NOW + 2 * HOUR, comment: 'tonight' }, NOW, 'carol');
    const silences = new Silences([disks, dc1, later], NOW);
    expect(silences.size).toBe(2);
    expect(silences.of(alert('web3.example.com', 'disk-root'))).toEqual([disks.id]);
    expect(silences.of(alert('db3.example.com', 'disk-root'))).toEqual([]);
    expect(silences.of(alert('web3.example.com', 'ntp', { dc: 'dc1' }))).toEqual([dc1.id]);
    expect(silences.of(alert('web3.example.com', 'ntp', { dc: 'dc2' }))).toEqual([]);
    expect(silences.of(alert('db1.example.com', 'mysql'))).toEqual([]);
    expect(new Silences([later], NOW + HOUR).of(alert('db1.example.com', 'mysql'))).toEqual([later.id]);
    expect(new Silences([later], NOW + 2 * HOUR).size).toBe(0);

    const alerts = new Map([alert('web3.example.com', 'disk-root'), alert('web3.example.com', 'http')].map((a) => [a.id, a]));
    expect(silences.covering(['web3.example.com/disk-root'], alerts)).toEqual([disks.id]);
    // One root alert nobody silenced is news: the incident tells as usual.
    expect(silences.covering(['web3.example.com/disk-root', 'web3.example.com/http'], alerts)).toBeUndefined();
    expect(silences.covering(['web9.example.com/disk-root'], alerts)).toBeUndefined();
  });

  it('refuse what would silence everything, or nothing, or without saying why', () => {
    const make = (r: Partial<Parameters<typeof newSilence>[0]>) => () => newSilence({ host: 'web*', start: NOW, end: NOW + HOUR, comment: 'why', ...r }, NOW, 'alice');
    expect(make({ host: '*', check: '*' })).toThrow(/must name a host or a check/);
    expect(make({ host: '', check: undefined })).toThrow(/must name a host or a check/);
    expect(make({ comment: '  ' })).toThrow(/comment is required/);
    expect(make({ end: NOW - 1 })).toThrow(/end must be after start/);
    expect(make({ start: NOW - 2 * HOUR, end: NOW - HOUR })).toThrow(/in the past/);
    expect(make({ end: NOW + 40 * 86_400_000 })).toThrow(/at most 31 days/);
    expect(make({ comment: 'x'.repeat(1_001) })).toThrow(SilenceError);
    const s = make({})();
    expect(s).toMatchObject({ host: 'web*', check: '*', tags: {}, comment: 'why', createdBy: 'alice' });
    expect(s.id).toMatch(/^sil-[0-9a-f]{16}$/);
    // Expired: ended now and kept; one that had not begun ends before it begins.
    expect(expired(s, NOW + 60_000, 'bob')).toMatchObject({ end: NOW + 60_000, expiredBy: 'bob' });
    const planned = make({ start: NOW + HOUR, end: NOW + 2 * HOUR })();
    expect(new Silences([expired(planned, NOW, 'bob')], NOW + HOUR).size).toBe(0);
  });
});

describe('silencing an incident', () => {
  const open = { id: 'inc-00000000000000d1', status: 'open' as const, rootAlerts: ['db1.example.com/mysql', 'db1.example.com/ping'] };
  const span = { start: NOW, end: NOW + 2 * HOUR, comment: 'db1 flaps, ticket 7' };

  it('silences its root alerts by id: another check on the same host is news', () => {
    const s = incidentSilence(open, span, NOW, 'alice');
    expect(s).toMatchObject({ host: '*', check: '*', alertIds: open.rootAlerts, incident: open.id, createdBy: 'alice', comment: 'db1 flaps, ticket 7' });
    const silences = new Silences([s], NOW);
    expect(silences.of(alert('db1.example.com', 'mysql'))).toEqual([s.id]);
    expect(silences.of(alert('db1.example.com', 'ssh'))).toEqual([]);
    expect(silences.of(alert('db2.example.com', 'mysql'))).toEqual([]);
    expect(describeSilence(s)).toBe(`db1.example.com/mysql, db1.example.com/ping (the root of ${open.id})`);
  });

  it('refuses a resolved incident, a storm, one of too many root alerts, and what newSilence refuses', () => {
    const make = (i: Partial<Parameters<typeof incidentSilence>[0]>, r: Partial<typeof span> = {}) => () => incidentSilence({ ...open, ...i }, { ...span, ...r }, NOW, 'alice');
    expect(make({ status: 'resolved' })).toThrow(/is resolved/);
    expect(make({ storm: { team: 'team:web', members: [], memberCount: 40, joinedAt: NOW, toldMembers: 40, toldAt: NOW, updates: 0 } })).toThrow(/storm of 40 root causes: silence their hosts with a glob/);
    expect(make({ rootAlerts: open.rootAlerts, rootAlertCount: 20_000 })).toThrow(/has 20000 root alerts: silence them with a glob/);
    expect(make({ rootAlerts: [] })).toThrow(/no root alert/);
    expect(make({}, { comment: ' ' })).toThrow(/comment is required/);
    expect(make({}, { end: NOW + 40 * 86_400_000 })).toThrow(/at most 31 days/);
  });
});

/** On the estate compiled by real Puppet, through real NATS and a real webhook receiver (settle window 600 ms). */
describe('silenced incidents on a real-Puppet estate', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let p: Pipeline;

  beforeAll(async () => {
    ({ driver, topology } = await estate());
  });
  afterEach(async () => {
    await p?.close();
  });
  afterAll(async () => {
    await driver?.close();
  });

  const silence = async (request: Partial<Parameters<typeof newSilence>[0]>): Promise<Silence> => {
    const now = Date.now();
    const s = newSilence({ start: now - 1_000, end: now + HOUR, comment: 'known: unbound rebuild, ticket 42', ...request }, now, 'alice');
    await p.correlator.view.silences.put(s.id, s, undefined);
    return s;
  };
  const expire = async (s: Silence) => {
    const stored = p.correlator.view.silences.get(s.id)!;
    await p.correlator.view.silences.put(s.id, expired(stored.value, Date.now(), 'bob'), stored.revision);
  };

  it('a silenced root opens its incident and pages nobody, its children stay suppressed, and its end pages once', async () => {
    p = await pipeline(topology);
    const s = await silence({ host: 'log1.example.com', check: 'dns' });
    await p.send('log1.example.com', 'dns', 'critical');
    await p.send('mail1.example.com', 'mailq', 'critical');
    const incident = await until('the DNS incident', () => openIncidents(p)[0]);
    expect(incident).toMatchObject({ silencedBy: [s.id], untold: true, owners: ['team:netops'] });
    expect(incident.timeline.map((e) => e.text).join('\n')).toContain(`silenced by ${s.id} (log1.example.com/dns, until`);
    await sleep(1_000);
    expect(p.notifications()).toEqual([]);
    // Silenced is not recovered: what it explains is still explained, and pages nobody either.
    expect(p.decision('mail1.example.com/mailq')).toMatchObject({ verdict: 'suppressed', reason: 'dependency' });
    expect(openIncidents(p)).toHaveLength(1);

    await expire(s);
    await until('the page', () => pages(p).length === 1);
    await until('the stakeholder notices', () => pages(p, 'stakeholder').length === incident.stakeholders.length);
    const after = await until('no longer silenced', () => openIncidents(p).find((i) => i.id === incident.id && !i.silencedBy));
    expect(after.untold).toBeUndefined();
    expect(after.timeline.at(-1)!.text).toBe('no longer silenced: paging its owners now');
    expect(pages(p)[0]).toMatchObject({ team: 'team:netops', dedupKey: `${incident.id}/page/team:netops`, reason: `silenced until now (${s.id}); open since ${new Date(incident.openedAt).toISOString()}` });
    expect(pages(p, 'stakeholder')[0]!.reason).toMatch(/^silenced until now/);
    await sleep(1_000);
    expect(pages(p)).toHaveLength(1);

    await p.send('log1.example.com', 'dns', 'ok');
    await until('resolved notices to everyone told', () => pages(p, 'resolved').length === 1 + incident.stakeholders.length);
  });

  it('a silenced incident: its root flapping back opens one that pages nobody, and a check that fails later on the root pages', async () => {
    p = await pipeline(topology);
    await p.send('db1.example.com', 'ping', 'critical');
    const first = await until('the db1 incident', () => openIncidents(p)[0]);
    await until('its page', () => pages(p).length === 1);
    const now = Date.now();
    const s = incidentSilence(first, { start: now - 1_000, end: now + HOUR, comment: 'db1 flaps, ticket 7' }, now, 'alice');
    await p.correlator.view.silences.put(s.id, s, undefined);
    await until('silenced', () => openIncidents(p).find((i) => i.id === first.id && i.silencedBy?.includes(s.id)));

    // It flaps: resolved (its team told), and failing again opens a new incident under the silence, paging nobody.
    await p.send('db1.example.com', 'ping', 'ok');
    await until('resolved', () => pages(p, 'resolved').length === 1);
    await p.send('db1.example.com', 'ping', 'critical');
    const again = await until('the next db1 incident', () => openIncidents(p).find((i) => i.id !== first.id));
    expect(again).toMatchObject({ silencedBy: [s.id], untold: true });
    await sleep(1_000);
    expect(pages(p)).toHaveLength(1);

    // ssh fails too: not what was silenced, so the incident is news, and pages now.
    await p.send('db1.example.com', 'ssh', 'critical');
    await until('the page for the new root alert', () => pages(p).find((n) => n.incident.id === again.id));
    expect(openIncidents(p).find((i) => i.id === again.id)).toMatchObject({ rootAlerts: ['db1.example.com/ping', 'db1.example.com/ssh'] });
  });

  it('an incident opened silenced that recovers before its silence ends tells nobody, not even that it recovered', async () => {
    p = await pipeline(topology);
    await silence({ host: 'db1.example.com' });
    await p.send('db1.example.com', 'mysql', 'critical');
    const incident = await until('the db1 incident', () => openIncidents(p)[0]);
    expect(incident.untold).toBe(true);
    await p.send('db1.example.com', 'mysql', 'ok');
    await until('resolved', () => p.incidents().find((i) => i.id === incident.id && i.status === 'resolved'));
    await sleep(800);
    expect(p.notifications()).toEqual([]);
  });

  it('a silence that runs out while its incident is open pages then, without anyone touching it', async () => {
    p = await pipeline(topology);
    const s = await silence({ host: 'lb1.example.com', end: Date.now() + 2_500 });
    await p.send('lb1.example.com', 'haproxy', 'critical');
    const incident = await until('the lb1 incident', () => openIncidents(p)[0]);
    expect(incident.silencedBy).toEqual([s.id]);
    expect(p.notifications()).toEqual([]);
    const page = await until('the page when the silence ends', () => pages(p)[0], 5_000);
    expect(Date.now()).toBeGreaterThanOrEqual(s.end);
    expect(page).toMatchObject({ team: incident.owners[0], incident: { id: incident.id } });
  });

  it('a root alert nobody silenced pages as usual, and a silence after the page stops the reminders but not the resolution', async () => {
    let hours = 0;
    p = await pipeline(topology, {}, { clock: () => Date.now() + hours * HOUR });
    await silence({ host: 'db1.example.com', check: 'ping', end: Date.now() + 24 * HOUR });
    await p.send('db1.example.com', 'ping', 'critical');
    await p.send('db1.example.com', 'ssh', 'critical');
    const incident = await until('the db1 incident', () => openIncidents(p)[0]);
    expect(incident.rootAlerts).toEqual(['db1.example.com/ping', 'db1.example.com/ssh']);
    expect(incident.silencedBy).toBeUndefined();
    await until('the page', () => pages(p).length === 1);

    const s = await silence({ host: 'db1.example.com', check: 'ssh', end: Date.now() + 24 * HOUR });
    await until('silenced after the page', () => openIncidents(p).find((i) => i.silencedBy?.includes(s.id)));
    hours = 4.1;
    await sleep(2_000);
    expect(p.notifications().filter((n) => n.change === 'reminder')).toEqual([]);

    await p.send('db1.example.com', 'ping', 'ok');
    await p.send('db1.example.com', 'ssh', 'ok');
    await until('the resolution told to the team paged', () => pages(p, 'resolved').find((n) => n.team === 'team:dba'));
  });
});
