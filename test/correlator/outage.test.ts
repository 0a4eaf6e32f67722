import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { storeIncident } from '../../src/correlator/reconciler.ts';
import { addNote } from '../../src/correlator/notes.ts';
import { silentLog } from '../support/services.ts';
import { estate, openIncidents, pages, pipeline, sleep, until, type Pipeline } from './harness.ts';

/**
 * Outages on the estate compiled by real Puppet (test/fixtures/puppet), through real NATS and a real webhook
 * receiver: log1's unbound is the only DNS, which Exim on mail1 and mail2 needs; db1 and db2 both provide the
 * greylisting MySQL. Settle window 600 ms.
 */
const UNBOUND = 'log1.example.com::Service[unbound]';

describe('correlator on a real-Puppet estate', () => {
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

  it('children arriving before their parent stay suppressed: one page for the root owner, stakeholders told once', async () => {
    p = await pipeline(topology);
    await p.send('mail1.example.com', 'mailq', 'critical', { text: 'queue 5000' });
    await p.send('mail2.example.com', 'mailq', 'critical');
    await sleep(150);
    await p.send('log1.example.com', 'dns', 'critical', { text: 'unbound not answering' });

    const incident = await until('an incident', () => openIncidents(p)[0]);
    expect(incident.root).toEqual([UNBOUND]);
    expect(incident.suppressed).toEqual(['mail1.example.com/mailq', 'mail2.example.com/mailq']);
    expect(incident.affectedServices).toContain('service:mail');
    expect(incident.owners).toEqual(['team:netops']);
    expect(incident.stakeholders).toContain('team:mail-team');

    await until('page and stakeholder notices', () => pages(p).length >= 1 && pages(p, 'stakeholder').length >= 1);
    await sleep(1_000); // more than the settle window: nothing else may arrive
    expect(openIncidents(p)).toHaveLength(1);
    expect(pages(p).map((n) => n.team)).toEqual(['team:netops']);
    const page = pages(p)[0]!;
    expect(page.incident.root).toEqual([UNBOUND]);
    expect(page.incident.suppressed).toEqual(['mail1.example.com/mailq', 'mail2.example.com/mailq']);
    expect(page.incident.affectedServices).toContain('service:mail');
    expect(page.dedupKey).toBe(`${incident.id}/page/team:netops`);
    expect(pages(p, 'stakeholder').map((n) => n.team).sort()).toEqual(incident.stakeholders);
    expect(p.decision('mail1.example.com/mailq')).toMatchObject({ verdict: 'suppressed', reason: 'dependency' });
  });

  it('recovery of the parent resolves its incident and pages the child that still fails', async () => {
    p = await pipeline(topology);
    await p.send('mail1.example.com', 'mailq', 'critical');
    await p.send('log1.example.com', 'dns', 'critical');
    const first = await until('the DNS incident', () => openIncidents(p).find((i) => i.root.includes(UNBOUND)));
    expect(first.suppressed).toEqual(['mail1.example.com/mailq']);

    await p.send('log1.example.com', 'dns', 'ok');
    await until('the DNS incident resolved', () => p.incidents().find((i) => i.id === first.id && i.status === 'resolved'));
    const told = [...first.owners, ...first.stakeholders].sort();
    expect(told).toEqual(expect.arrayContaining(['team:mail-team', 'team:netops']));
    await until('resolved notices', () => pages(p, 'resolved').length >= told.length);
    expect(pages(p, 'resolved').map((n) => n.team).sort()).toEqual(told);

    const child = await until('the mail incident', () => openIncidents(p).find((i) => i.rootAlerts.includes('mail1.example.com/mailq')));
    expect(child.owners).toEqual(['team:mail-team']);
    await until('a page for mail-team', () => pages(p).find((n) => n.team === 'team:mail-team' && n.incident.id === child.id));
  });

  it('an alert already paged is folded into a later parent\'s incident with an update, not a new page', async () => {
    p = await pipeline(topology);
    await p.send('mail1.example.com', 'mailq', 'critical');
    const child = await until('the mail incident', () => openIncidents(p)[0]);
    await until('the mail page', () => pages(p).length === 1);

    await p.send('log1.example.com', 'dns', 'critical');
    const parent = await until('the DNS incident', () => openIncidents(p).find((i) => i.root.includes(UNBOUND)));
    const folded = await until('the mail incident folded', () => p.incidents().find((i) => i.id === child.id && i.mergedInto === parent.id));
    expect(folded.status).toBe('resolved');
    await until('the update', () => pages(p, 'update').length >= 1);
    expect(pages(p, 'update')[0]).toMatchObject({ team: 'team:mail-team', reason: expect.stringContaining(parent.id) });
    const mailPages = pages(p).filter((n) => n.team === 'team:mail-team');
    expect(mailPages).toHaveLength(1);
    expect(await until('the fold recorded', () => openIncidents(p).find((i) => i.id === parent.id && i.suppressed.includes('mail1.example.com/mailq')))).toBeTruthy();
  });

  it('one mail host down takes no service down but leaves mail without a spare: the page says so, and it is kept current', async () => {
    p = await pipeline(topology);
    await p.send('mail1.example.com', 'mailq', 'critical', { text: 'queue 5000' });
    const first = await until('the mail1 incident', () => openIncidents(p)[0]);
    expect(first.affectedServices).toEqual([]);
    expect(first.servicesAtRisk).toEqual(['service:mail']);
    expect(first.groupsWithoutSpare).toEqual(['group:service:mail']);
    expect(first.holdingUp).toEqual(['mail2.example.com::Service[exim4]']);
    expect(first.timeline.map((e) => e.text)).toContain('service:mail at risk: no spare left in group:service:mail');
    const page = await until('the page', () => pages(p)[0]);
    expect(page.incident.servicesAtRisk).toEqual(['service:mail']);
    expect(page.incident.holdingUp).toEqual(['mail2.example.com::Service[exim4]']);
    expect(page.summary).toBe('mail1.example.com::Service[exim4] is failing: no service affected; service:mail at risk (no spare left)');

    // mail2 fails too: mail is down now, not at risk, in the first incident as in the second.
    await p.send('mail2.example.com', 'mailq', 'critical');
    const both = await until('mail down', () => {
      const open = openIncidents(p);
      return open.length === 2 && open.every((i) => i.affectedServices.includes('service:mail')) && open;
    });
    for (const incident of both) expect(incident).toMatchObject({ servicesAtRisk: [], groupsWithoutSpare: [], holdingUp: [] });
  });

  it('one page per root owner team, whatever the number of alerts on the root', async () => {
    p = await pipeline(topology);
    for (const check of ['ping', 'disk', 'mysql', 'ssh']) await p.send('db1.example.com', check, 'critical');
    const incident = await until('an incident', () => openIncidents(p)[0]);
    expect(incident.root).toEqual(['db1.example.com']);
    expect(incident.suppressed).toEqual(expect.arrayContaining(['db1.example.com/mysql']));
    await sleep(1_200);
    expect(openIncidents(p)).toHaveLength(1);
    expect(pages(p).map((n) => n.team)).toEqual(['team:dba']);
  });

  it('maintenance suppresses what the window takes down alone, and only that', async () => {
    p = await pipeline(topology);
    const now = Date.now();
    const window = { id: 'mw-test', entities: ['db1.example.com'], start: now - 1_000, end: now + 60_000, createdBy: 'test', createdAt: now };
    await p.correlator.view.maintenance.put(window.id, window, undefined);
    await p.send('db1.example.com', 'mysql', 'critical');
    await until('db1 decided', () => p.decision('db1.example.com/mysql')?.verdict === 'suppressed');
    expect(p.decision('db1.example.com/mysql')).toMatchObject({ reason: 'maintenance' });
    await sleep(1_000);
    expect(openIncidents(p)).toEqual([]);

    // db2 failing for real while db1 is in maintenance: the greylisting group is down because of both, so db2 is
    // a root and pages; the mail alerts it explains are not "maintenance".
    await p.send('db2.example.com', 'mysql', 'critical');
    await p.send('mail1.example.com', 'smtp', 'critical');
    const incident = await until('the db2 incident', () => openIncidents(p)[0]);
    expect(incident.root).toEqual(['db2.example.com::Service[mysqld]']);
    await until('a page for dba', () => pages(p).find((n) => n.team === 'team:dba'));
    expect(p.decision('mail1.example.com/smtp')).toMatchObject({ verdict: 'suppressed', reason: 'dependency' });
  });

  it('a month-long maintenance window is waited for, not planned again and again until it ends', async () => {
    // Node runs a timer longer than 24.8 days after 1 ms, with a TimeoutOverflowWarning.
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      p = await pipeline(topology);
      const now = Date.now();
      const window = { id: 'mw-month', entities: ['db1.example.com'], start: now - 1_000, end: now + 30 * 86_400_000, createdBy: 'test', createdAt: now };
      await p.correlator.view.maintenance.put(window.id, window, undefined);
      await p.send('db1.example.com', 'mysql', 'critical');
      await until('db1 decided', () => p.decision('db1.example.com/mysql')?.reason === 'maintenance');
      await sleep(1_000);
      expect(warnings).not.toContain('TimeoutOverflowWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('an unmapped host still alerts: its own incident, paged to the routes without a team', async () => {
    p = await pipeline(topology);
    await p.send('stranger.example.org', 'ping', 'critical');
    const incident = await until('an incident', () => openIncidents(p)[0]);
    expect(incident.root).toEqual(['stranger.example.org']);
    expect(p.decision('stranger.example.org/ping')).toMatchObject({ mappedBy: 'unmapped', verdict: 'root' });
    await until('a page without team', () => pages(p).find((n) => n.team === null));
  });

  it('a storm of root causes the graph cannot explain pages once for all of them, and resolves with the last', async () => {
    p = await pipeline(topology, { notify: { storm: { pages: 2, window: '10m' } } });
    const strangers = Array.from({ length: 6 }, (_, i) => `stranger${i + 1}.example.org`);
    // Two pages (the limit), then four more root causes: a storm, not four more pages.
    for (const host of strangers.slice(0, 2)) await p.send(host, 'ping', 'critical');
    await until('the first two pages', () => pages(p).length === 2);
    for (const host of strangers.slice(2)) await p.send(host, 'ping', 'critical');
    const storm = await until('a storm with every stranger', () => p.incidents().find((i) => i.storm?.memberCount === strangers.length));
    expect(storm.storm).toMatchObject({ team: null });
    expect(storm.root.sort()).toEqual(strangers);
    await sleep(1_000); // past the settle window: every page that will be sent is sent
    const told = pages(p).filter((n) => n.team === null);
    // Two incidents paged, then the storm once: not six pages.
    expect(told.filter((n) => !n.incident.storm)).toHaveLength(2);
    expect(told.filter((n) => n.incident.storm).map((n) => n.dedupKey)).toEqual([`${storm.id}/page/unowned`]);
    expect(told.find((n) => n.incident.storm)!.summary).toMatch(/^storm for nobody in particular: \d root causes failing/);
    const held = openIncidents(p).filter((i) => i.heldBy?.some((h) => h.storm === storm.id));
    expect(held.length).toBe(strangers.length - 2);

    for (const host of strangers) await p.send(host, 'ping', 'ok');
    await until('the storm resolved', () => p.incidents().find((i) => i.id === storm.id && i.status === 'resolved'));
    const resolved = await until('the storm\'s resolved notice', () => pages(p, 'resolved').find((n) => n.incident.id === storm.id));
    expect(resolved.reason).toBe(`all ${strangers.length} of its root causes recovered`);
    // The held incidents resolve without a word to the team their storm spoke for; the two paged ones say so.
    await until('two resolved notices of the paged incidents', () => pages(p, 'resolved').filter((n) => !n.incident.storm).length === 2);
    await sleep(500);
    expect(pages(p, 'resolved').filter((n) => !n.incident.storm)).toHaveLength(2);
  });

  it('an acknowledgement that lands while the correlator writes a plan made before it is kept, not overwritten', async () => {
    p = await pipeline(topology);
    await p.send('stranger.example.org', 'ping', 'critical');
    const opened = await until('an incident', () => openIncidents(p)[0]);
    const incidents = p.correlator.view.incidents;
    const planned = incidents.get(opened.id)!.revision;
    // The operator acknowledges (as the API does: compare-and-set on what it read)...
    const acked = { ...opened, status: 'acknowledged' as const, acknowledgedAt: Date.now(), acknowledgedBy: 'noc-operator' };
    await incidents.put(opened.id, acked, planned);
    // ...while the correlator stores an update planned from the revision before it.
    const update = { ...opened, updatedAt: opened.updatedAt + 1, timeline: [...opened.timeline, { at: opened.updatedAt + 1, change: 'updated' as const, text: 'a stakeholder more' }] };
    const stored = await storeIncident(p.correlator.view, { incident: update, change: 'updated' }, planned);
    expect(stored).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'noc-operator' });
    expect(stored.timeline.map((e) => e.text)).toContain('a stakeholder more');
    expect(incidents.get(opened.id)!.value).toEqual(stored);

    // A note written meanwhile is kept the same way, and so is the leader's mark that it told the note.
    const before = incidents.get(opened.id)!.revision;
    const deps = { incidents, nats: p.nats, clock: Date.now, log: silentLog };
    expect((await addNote(deps, opened.id, 'noc-operator', 'failing over', true)).outcome).toBe('stored');
    const told = { ...stored, notes: [{ n: 1, at: 0, by: 'noc-operator', text: 'failing over', tell: true, told: true }], updatedAt: stored.updatedAt + 1 };
    expect((await addNote(deps, opened.id, 'noc-operator', 'back in 10 minutes', false)).outcome).toBe('stored');
    const merged = await storeIncident(p.correlator.view, { incident: told, change: 'updated' }, before);
    expect(merged.notes).toEqual([
      expect.objectContaining({ n: 1, text: 'failing over', told: true }),
      expect.objectContaining({ n: 2, text: 'back in 10 minutes', tell: false }),
    ]);
    expect(merged.timeline.filter((e) => e.change === 'noted').map((e) => e.text)).toEqual(['note by noc-operator: failing over', 'note by noc-operator: back in 10 minutes']);
  });

  it('an incident nobody acknowledges reminds its owners hours later, once each time, until someone acknowledges it', async () => {
    // Hours pass in the correlator's clock (notify.remind defaults to 4h).
    let hours = 0;
    p = await pipeline(topology, {}, { clock: () => Date.now() + hours * 3_600_000 });
    await p.send('log1.example.com', 'dns', 'critical');
    const incident = await until('the DNS incident', () => openIncidents(p)[0]);
    await until('the page', () => pages(p).length === 1);
    const reminders = () => p.notifications().filter((n) => n.change === 'reminder');

    // Nothing else happens: the lease, timed by the same clock, has lapsed and its renewal plans again.
    hours = 4.1;
    await until('a reminder', () => reminders().length > 0);
    await until('the reminder noted', () => p.incidents().find((i) => i.id === incident.id)?.reminders === 1);
    await p.send('mail2.example.com', 'mailq', 'critical');
    await sleep(1_000);
    expect(reminders().map((n) => [n.kind, n.team, n.dedupKey])).toEqual([['update', 'team:netops', `${incident.id}/update/team:netops/reminder/1`]]);
    expect(reminders()[0]!.reason).toBe('open for 4h6m and nobody has acknowledged it');

    const stored = p.correlator.view.incidents.get(incident.id)!;
    await p.correlator.view.incidents.put(incident.id, { ...stored.value, status: 'acknowledged', acknowledgedAt: Date.now(), acknowledgedBy: 'noc-operator' }, stored.revision);
    await until('the acknowledgement told', () => p.notifications().some((n) => n.change === 'acknowledged'));
    hours = 12;
    await sleep(1_500);
    await p.send('mail2.example.com', 'mailq', 'ok');
    await sleep(1_000);
    expect(reminders()).toHaveLength(1);
  });

  it('keeps per-event decision latencies only when asked (a long-running correlator would keep one per event)', async () => {
    p = await pipeline(topology);
    await p.send('db1.example.com', 'mysql', 'critical');
    await p.send('db1.example.com', 'mysql', 'critical');
    await until('both events handled', () => p.correlator.stats.events === 2);
    await until('the alert decided', () => p.decision('db1.example.com/mysql')?.verdict === 'root');
    expect(p.correlator.takeLatencies()).toEqual([]);
    await p.close();

    p = await pipeline(topology, {}, { recordLatencies: true });
    await p.send('db1.example.com', 'mysql', 'critical');
    await p.send('db1.example.com', 'mysql', 'critical');
    const latencies = await until('both events decided', () => p.correlator.stats.latencies.length === 2 && p.correlator.takeLatencies());
    expect(latencies.every((ms) => ms >= 0 && ms < 10_000)).toBe(true);
    expect(p.correlator.takeLatencies()).toEqual([]);
  });

  it('an invalid event lands in the dead-letter stream with its reason, and the next valid one is handled', async () => {
    p = await pipeline(topology);
    const { jetstream } = await import('@nats-io/jetstream');
    await jetstream(p.nats).publish('faultline.events.test', JSON.stringify({ host: 'db1.example.com', check: 'mysql', status: 'on fire' }));
    await jetstream(p.nats).publish('faultline.events.test', 'not json at all');
    await p.send('db2.example.com', 'mysql', 'critical');
    await until('the valid event decided', () => p.decision('db2.example.com/mysql')?.verdict === 'root');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const jsm = await jetstreamManager(p.nats);
    const dead = await jsm.streams.info('FAULTLINE_DEAD');
    expect(dead.state.messages).toBe(2);
    const one = await jsm.streams.getMessage('FAULTLINE_DEAD', { seq: 1 });
    expect(one?.json()).toMatchObject({ reason: expect.stringContaining('status'), subject: 'faultline.events.test', body: { status: 'on fire' } });
    const two = await jsm.streams.getMessage('FAULTLINE_DEAD', { seq: 2 });
    expect(two?.json()).toMatchObject({ reason: expect.stringContaining('not JSON'), body: 'not json at all' });
  });
});
