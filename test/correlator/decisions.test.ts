import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertKey, applyEvent, takeRefresh, type AlertRecord } from '../../src/correlator/alert.ts';
import { analyse, attribute } from '../../src/correlator/analysis.ts';
import { parseEvent, type AlertEvent } from '../../src/correlator/event.ts';
import { AlertMapper } from '../../src/correlator/mapping.ts';
import { fitIncident, INCIDENT_BYTES, SUPPRESSED_LIMIT, TIMELINE_LIMIT, type Incident } from '../../src/correlator/incident.ts';
import { NOTIFICATION_BYTES, NOTIFIED_SUPPRESSED, planIncidents } from '../../src/correlator/plan.ts';
import { facts } from '../../src/notify/render.ts';
import { PlacedAlerts } from '../../src/correlator/placed.ts';
import { inParts } from '../../src/correlator/reconciler.ts';
import { maintenanceMask } from '../../src/correlator/maintenance.ts';
import { alertRef } from '../../src/api/correlation/refs.ts';
import { incidentIndex, incidentOf } from '../../src/correlator/incident-index.ts';
import { compileTopology } from '../../src/engine/index.ts';
import { estateInput } from '../engine/estate.ts';

const attributed = ({ mapper, threshold, alerts }: { mapper: AlertMapper; threshold: 'critical' | 'warning'; alerts: AlertRecord[] }) =>
  attribute(analyse({ alerts: new PlacedAlerts(mapper, threshold, alerts) }));

/** The pure stages: event → alert state, alerts → decisions, decisions → incidents and notifications. */
const event = (fields: Record<string, unknown>, time = 1_000): AlertEvent => {
  const parsed = parseEvent({ host: 'db1.example.com', check: 'mysql', status: 'critical', ...fields }, { time });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.event;
};

describe('alert state', () => {
  it('the newest event wins; an older or redelivered one changes nothing', () => {
    const first = applyEvent(undefined, event({ time: '2026-11-21T10:00:00Z' }), 1);
    expect(first).toMatchObject({ effect: 'changed', statusChanged: true });
    const record = (first as { record: AlertRecord }).record;
    expect(applyEvent(record, event({ status: 'ok', time: '2026-11-21T09:59:00Z' }), 2)).toEqual({ effect: 'ignored' });
    expect(applyEvent(record, event({ time: '2026-11-21T10:00:00Z' }), 1)).toEqual({ effect: 'ignored' });
    const refreshEvent = event({ time: '2026-11-21T10:01:00Z', source: 'nagios' });
    expect(applyEvent(record, refreshEvent, 3)).toEqual({ effect: 'refreshed' });
    const refreshed = { ...record };
    takeRefresh(refreshed, refreshEvent, 3);
    expect(refreshed).toEqual({ ...record, time: Date.parse('2026-11-21T10:01:00Z'), seq: 3, source: 'nagios' });
    expect(applyEvent(record, event({ time: '2026-11-21T10:01:00Z', text: 'slow' }), 3)).toMatchObject({ effect: 'changed', statusChanged: false, record: { since: record.since, text: 'slow' } });
    const cleared = applyEvent(record, event({ raise: 'clear', time: '2026-11-21T10:02:00Z' }), 4);
    expect(cleared).toMatchObject({ effect: 'changed', statusChanged: true, record: { status: 'ok', since: Date.parse('2026-11-21T10:02:00Z') } });
  });

  it('takes Nagios codes and names each bad field', () => {
    expect(parseEvent({ host: 'h', check: 'c', status: 2 }, { time: 0 })).toMatchObject({ ok: true, event: { status: 'critical' } });
    const bad = parseEvent({ host: '', check: 'c', status: 'on fire', colour: 'red' }, { time: 0 });
    expect(bad.ok).toBe(false);
    const reason = (bad as { reason: string }).reason;
    expect(reason).toMatch(/host/);
    expect(reason).toMatch(/status/);
    expect(reason).toMatch(/colour/);
    expect(parseEvent({ host: 'h', check: 'c', status: 'ok', raise: '+25h' }, { time: 0 })).toEqual({
      ok: false,
      reason: 'raise: "+25h" with status ok raises nothing when it comes due; give the status to raise, e.g. critical',
    });
    expect(parseEvent({ host: 'h', check: 'c', status: 'critical', raise: '+25h' }, { time: 0 })).toMatchObject({ ok: true, event: { raise: { kind: 'after' } } });
  });

  it('carries a runbook link, refuses one that is no http(s) URL, and takes a new one as a change, not a refresh', () => {
    expect(event({ runbook: 'https://wiki.example.com/runbooks/mysql' }).runbook).toBe('https://wiki.example.com/runbooks/mysql');
    for (const [runbook, reason] of [
      ['javascript:alert(1)', 'runbook: runbook must be an http or https URL'],
      ['wiki/runbooks/mysql', 'runbook: runbook must be an http or https URL'],
      [`https://example.com/${'x'.repeat(2048)}`, 'runbook: runbook is longer than 2048 characters'],
    ]) {
      expect(parseEvent({ host: 'h', check: 'c', status: 'critical', runbook }, { time: 0 })).toEqual({ ok: false, reason });
    }
    const first = (applyEvent(undefined, event({ time: '2026-11-21T10:00:00Z', runbook: 'https://wiki.example.com/a' }), 1) as { record: AlertRecord }).record;
    expect(first.runbook).toBe('https://wiki.example.com/a');
    expect(applyEvent(first, event({ time: '2026-11-21T10:01:00Z', runbook: 'https://wiki.example.com/a' }), 2)).toEqual({ effect: 'refreshed' });
    expect(applyEvent(first, event({ time: '2026-11-21T10:01:00Z', runbook: 'https://wiki.example.com/b' }), 2)).toMatchObject({ effect: 'changed', statusChanged: false, record: { runbook: 'https://wiki.example.com/b' } });
  });

  it('gives every alert id a distinct, valid KV key', () => {
    const valid = /^[-/_=.A-Za-z0-9]+$/;
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        const ka = alertKey(a);
        expect(ka).toMatch(valid);
        expect(ka.split('.').every((token) => token.length > 0)).toBe(true);
        if (a !== b) expect(alertKey(b)).not.toBe(ka);
      }),
    );
    expect(alertKey('mail1.example.com/mailq')).toBe('mail1.example.com/mailq');
    // Plain ids are their own keys; an id with a dot out of place is escaped, so no other id's key can equal them.
    fc.assert(
      fc.property(fc.stringMatching(/^[a-z0-9./_-]{1,30}$/), (id) => {
        const plain = !id.startsWith('.') && !id.endsWith('.') && !id.includes('..');
        expect(alertKey(id) === id).toBe(plain);
      }),
    );
  });
});

describe('an action too long for one message', () => {
  it('goes in parts that each fit, in order, every dependent once', () => {
    const ids = Array.from({ length: 5_000 }, (_, i) => `web${i}.example.com::Service[nginx]`);
    const parts = inParts(ids, 20_000);
    expect(parts.length).toBeGreaterThan(5);
    expect(parts.flat()).toEqual(ids);
    expect(parts.every((part) => Buffer.byteLength(JSON.stringify(part)) <= 20_000)).toBe(true);
    expect(inParts([], 20_000)).toEqual([[]]);
    // An id longer than a part still goes, alone.
    expect(inParts(['x'.repeat(100), 'y'], 50)).toEqual([['x'.repeat(100)], ['y']]);
  });
});

describe('decisions and incidents on the example estate', () => {
  const topology = compileTopology(estateInput());
  const mapper = new AlertMapper(topology, [{ check: 'mongo*', entity: '{host}::Service[mongod]' }]);
  let seq = 0;
  const alert = (host: string, check: string, status: AlertRecord['status'] = 'critical', since = 1_000): AlertRecord => ({
    id: `${host}/${check}`,
    host,
    check,
    status,
    since,
    time: since,
    seq: ++seq,
    source: 'test',
    tags: {},
  });

  it('maps by check, by rule, by host, and leaves unknown hosts unmapped', () => {
    expect(mapper.map(alert('db1.example.com', 'mysql'))).toEqual({ entity: topology.indexOf('db1.example.com::Service[mysqld]'), by: 'check' });
    expect(mapper.map(alert('mongo2.example.com', 'mongo-repl'))).toEqual({ entity: topology.indexOf('mongo2.example.com::Service[mongod]'), by: 'rule' });
    expect(mapper.map(alert('db1.example.com', 'ping'))).toEqual({ entity: topology.indexOf('db1.example.com'), by: 'host' });
    expect(mapper.map({ ...alert('db1.example.com', 'x'), entity: 'service:mail' })).toMatchObject({ by: 'entity' });
    expect(mapper.map(alert('nowhere.example.org', 'ping'))).toEqual({ entity: -1, by: 'unmapped' });
  });

  it('both MySQLs down: two roots, the mail alerts suppressed by both; a warning below the threshold is suppressed too', () => {
    const a = attributed({
      mapper,
      threshold: 'critical',
      alerts: [alert('db1.example.com', 'mysql'), alert('db2.example.com', 'mysql'), alert('mail1.example.com', 'mailq'), alert('mail2.example.com', 'smtp', 'warning')],
    });
    expect(a.units.map((u) => u.entities)).toEqual(expect.arrayContaining([['db1.example.com::Service[mysqld]'], ['db2.example.com::Service[mysqld]']]));
    const mailq = a.decisions.get('mail1.example.com/mailq')!;
    expect(mailq).toMatchObject({ verdict: 'suppressed', reason: 'dependency' });
    expect(mailq.suppressedBy.map((u) => a.units[u]!.entities[0]).sort()).toEqual(['db1.example.com::Service[mysqld]', 'db2.example.com::Service[mysqld]']);
    expect(a.decisions.get('mail2.example.com/smtp')).toMatchObject({ failing: false, verdict: 'suppressed' });
  });

  it('one MySQL down explains nothing: the mail alert is a root of its own', () => {
    const a = attributed({ mapper, threshold: 'critical', alerts: [alert('db1.example.com', 'mysql'), alert('mail1.example.com', 'mailq')] });
    expect(a.decisions.get('mail1.example.com/mailq')).toMatchObject({ verdict: 'root' });
  });

  it('waits the settle window, then opens one incident with a page per root owner and stakeholder notices', () => {
    const a = attributed({ mapper, threshold: 'critical', alerts: [alert('db1.example.com', 'mysql'), alert('db2.example.com', 'mysql'), alert('mail1.example.com', 'mailq')] });
    const alerts = new Map([...a.decisions.keys()].map((id) => [id, alert(id.split('/')[0]!, id.split('/')[1]!)]));
    const input = { analysis: a, open: [], alerts, known: () => false, settleMs: 30_000 };
    const early = planIncidents({ ...input, rootSeen: new Map(), now: 10_000 });
    expect(early.writes).toEqual([]);
    expect(early.wakeAt).toBe(40_000);
    const later = planIncidents({ ...input, rootSeen: early.rootSeen, now: 40_000 });
    expect(later.writes.map((w) => w.incident.root)).toEqual([['db1.example.com::Service[mysqld]'], ['db2.example.com::Service[mysqld]']]);
    expect(later.writes[0]!.incident.suppressed).toEqual(['mail1.example.com/mailq']);
    // Pages first: the outbox delivers in this order, and in a large outage the stakeholders' notices are many.
    expect(later.notifications.map((n) => [n.kind, n.team])).toEqual([
      ['page', 'team:dba'],
      ['page', 'team:dba'],
      ['stakeholder', 'team:mail-team'],
      ['stakeholder', 'team:mail-team'],
    ]);
    // Deciding again with the incidents open changes nothing and tells nobody.
    const again = planIncidents({ ...input, open: later.writes.map((w) => w.incident), rootSeen: later.rootSeen, now: 41_000 });
    expect(again.writes).toEqual([]);
    expect(again.notifications).toEqual([]);
  });

  it('reminds the owners of an open incident nobody acknowledged, every remind interval, each reminder once', () => {
    // Both MySQLs down: two incidents owned by team:dba, with team:mail-team a stakeholder of each.
    const a = attributed({ mapper, threshold: 'critical', alerts: [alert('db1.example.com', 'mysql'), alert('db2.example.com', 'mysql'), alert('mail1.example.com', 'mailq')] });
    const alerts = new Map([...a.decisions.keys()].map((id) => [id, alert(id.split('/')[0]!, id.split('/')[1]!)]));
    const hour = 3_600_000;
    const t0 = 60_000;
    const rootSeen = new Map(a.units.map((u) => [u.key, 0]));
    const plan = (open: Incident[], now: number, remind: { remindMs?: number } = { remindMs: 4 * hour }) =>
      planIncidents({ analysis: a, open, alerts, known: () => false, rootSeen, now, settleMs: 30_000, ...remind });
    const opened = plan([], t0);
    const incidents = opened.writes.map((w) => w.incident);
    expect(incidents.map((i) => [i.owners, i.stakeholders])).toEqual([
      [['team:dba'], ['team:mail-team']],
      [['team:dba'], ['team:mail-team']],
    ]);
    expect(opened.wakeAt).toBe(t0 + 4 * hour);

    const early = plan(incidents, t0 + 4 * hour - 1);
    expect(early.notifications).toEqual([]);
    expect(early.writes).toEqual([]);
    expect(early.wakeAt).toBe(t0 + 4 * hour);

    const first = plan(incidents, t0 + 4 * hour);
    // The owners only: the stakeholders were told the cause is someone else's, and that has not changed.
    expect(first.notifications.map((n) => [n.kind, n.change, n.team, n.dedupKey])).toEqual(
      incidents.map((i) => ['update', 'reminder', 'team:dba', `${i.id}/update/team:dba/reminder/1`]),
    );
    expect(first.notifications[0]!.reason).toBe('open for 4h and nobody has acknowledged it');
    expect(first.writes).toEqual(incidents.map((i) => ({ incident: { ...i, reminders: 1, remindedAt: t0 + 4 * hour }, change: 'updated', quiet: true })));
    expect(first.wakeAt).toBe(t0 + 8 * hour);
    // Deciding it again (another leader, a restart before the write): the same dedup keys, so it is told once.
    expect(plan(incidents, t0 + 4 * hour + 5).notifications.map((n) => n.dedupKey)).toEqual(first.notifications.map((n) => n.dedupKey));

    const reminded = first.writes.map((w) => w.incident);
    expect(plan(reminded, t0 + 8 * hour - 1).notifications).toEqual([]);
    const second = plan(reminded, t0 + 8 * hour + 30 * 60_000);
    expect(second.notifications.map((n) => n.dedupKey)).toEqual(incidents.map((i) => `${i.id}/update/team:dba/reminder/2`));
    expect(second.notifications[0]!.reason).toMatch(/^open for 8h30m and/);

    // Acknowledged (and told so): never reminded.
    const acknowledged = reminded.map((i) => ({ ...i, status: 'acknowledged' as const, acknowledgedBy: 'noc', acknowledgementTold: true }));
    const quiet = plan(acknowledged, t0 + 20 * hour);
    expect(quiet.notifications).toEqual([]);
    expect(quiet.wakeAt).toBeUndefined();
    // Reminders off.
    expect(plan(incidents, t0 + 20 * hour, {}).notifications).toEqual([]);
  });

  it('a silence that ends pages an incident opened under it only while its root still fails', () => {
    const mysql = alert('db1.example.com', 'mysql');
    const silence = { id: 'sil-0000000000000001', host: 'db1*', check: '*', tags: {}, start: 0, end: 100_000, comment: 'known', createdBy: 'alice', createdAt: 0 };
    const step = (records: AlertRecord[], open: Incident[], now: number, remindMs = 3_600_000) =>
      planIncidents({
        analysis: attributed({ mapper, threshold: 'critical', alerts: records }),
        open,
        alerts: new Map(records.map((r) => [r.id, r])),
        known: () => false,
        rootSeen: new Map([['db1.example.com::Service[mysqld]', 0]]),
        now,
        settleMs: 30_000,
        remindMs,
        silences: [silence],
      });
    const opened = step([mysql], [], 60_000);
    const incident = opened.writes[0]!.incident;
    expect(incident).toMatchObject({ silencedBy: [silence.id], untold: true });
    expect(opened.notifications).toEqual([]);
    // Long past a reminder's due time, still silenced: no reminder for an incident nobody was told of.
    expect(step([mysql], [incident], 99_000, 1_000).notifications).toEqual([]);

    const ended = step([mysql], [incident], 100_000);
    expect(ended.notifications.map((n) => [n.kind, n.team, n.dedupKey])).toEqual([['page', 'team:dba', `${incident.id}/page/team:dba`], ...incident.stakeholders.map((t) => ['stakeholder', t, `${incident.id}/stakeholder/${t}`])]);
    expect(ended.writes[0]!.incident).toMatchObject({ remindedAt: 100_000 });
    expect(ended.writes[0]!.incident.untold).toBeUndefined();

    // Recovered before its silence ended: the end pages nobody, and the resolution tells nobody.
    const recovered = step([{ ...mysql, status: 'ok' }], [incident], 100_000);
    expect(recovered.notifications).toEqual([]);
    expect(recovered.writes.map((w) => [w.change, w.incident.status])).toEqual([['resolved', 'resolved']]);
  });

  it('an incident whose root alerts flap for days keeps its first timeline entry and the newest, not every flap', () => {
    const mysql = alert('db1.example.com', 'mysql');
    const slow = { ...alert('db1.example.com', 'mysql-slow'), entity: 'db1.example.com::Service[mysqld]' };
    const step = (records: AlertRecord[], open: Incident[], now: number, rootSeen: Map<string, number>) => {
      const analysis = attributed({ mapper, threshold: 'critical', alerts: records });
      return planIncidents({ analysis, open, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, rootSeen, now, settleMs: 30_000 });
    };
    const first = step([mysql], [], 60_000, new Map([['db1.example.com::Service[mysqld]', 0]]));
    let incident = first.writes[0]!.incident;
    for (let i = 1; i <= 3 * TIMELINE_LIMIT; i++) {
      const plan = step(i % 2 ? [mysql, slow] : [mysql], [incident], 60_000 + i * 60_000, first.rootSeen);
      expect(plan.writes.map((w) => w.incident.id)).toEqual([incident.id]);
      incident = plan.writes[0]!.incident;
    }
    expect(incident.rootAlerts).toEqual(['db1.example.com/mysql']);
    expect(incident.timeline).toHaveLength(TIMELINE_LIMIT);
    expect(incident.timeline[0]).toMatchObject({ change: 'opened', at: 60_000 });
    expect(incident.timeline.at(-1)).toMatchObject({ change: 'updated', at: 60_000 + 3 * TIMELINE_LIMIT * 60_000 });
    expect(incident.timeline.map((e) => e.at)).toEqual(incident.timeline.map((e) => e.at).sort((a, b) => a - b));
  });

  it('an outage that suppresses tens of thousands of alerts: incident and page each fit in a NATS message, and list what they can', () => {
    const mailq = alert('mail1.example.com', 'mailq');
    const [exim] = topology.idsOf([mapper.map(mailq).entity]);
    const many = 30_000;
    const children = Array.from({ length: many }, (_, i) => ({ ...alert('mail1.example.com', `queue-${String(i).padStart(5, '0')}`), entity: exim }));
    const records = [alert('db1.example.com', 'mysql'), alert('db2.example.com', 'mysql'), ...children];
    const a = attributed({ mapper, threshold: 'critical', alerts: records });
    const input = { analysis: a, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, rootSeen: new Map(a.units.map((u) => [u.key, 0])), settleMs: 30_000 };
    const plan = planIncidents({ ...input, open: [], now: 60_000 });
    const incident = plan.writes[0]!.incident;
    expect(incident.suppressed).toEqual(children.map((c) => c.id).slice(0, SUPPRESSED_LIMIT));
    expect(incident.suppressedCount).toBe(many);
    const page = plan.notifications.find((n) => n.kind === 'page')!;
    expect(page.incident.suppressed).toEqual(incident.suppressed.slice(0, NOTIFIED_SUPPRESSED));
    expect(page.incident.suppressedCount).toBe(many);
    expect(facts(page, undefined).find((f) => f.label === 'Suppressed alerts')!.items[0]).toMatch(new RegExp(`^${many} \\(`));
    // NATS's default max_payload, with room for the outbox envelope and headers.
    expect(Buffer.byteLength(JSON.stringify(incident))).toBeLessThan(900_000);
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(100_000);
    // Every child names its incident in GraphQL, listed or not: the newest of db1's and db2's, which both explain it.
    const incidents = plan.writes.map((w) => w.incident);
    const [newest] = [...incidents].sort((x, y) => y.openedAt - x.openedAt || (y.id < x.id ? -1 : 1));
    const index = incidentIndex(incidents);
    const named = children.map((c) => incidentOf(index, alertRef(input.alerts.get(c.id)!, a))?.id);
    expect(new Set(named)).toEqual(new Set([newest!.id]));
    // Only an incident that says it lists part of its alerts is searched past its list.
    const unlisted = children.at(-1)!;
    const asIfComplete = incidentIndex(incidents.map(({ suppressedCount: _, ...i }) => i));
    expect(incidentOf(asIfComplete, alertRef(input.alerts.get(unlisted.id)!, a))).toBeUndefined();
    // Decided again, the listed incident is up to date: no write, nobody told.
    const again = planIncidents({ ...input, open: plan.writes.map((w) => w.incident), rootSeen: plan.rootSeen, now: 61_000 });
    expect(again.writes).toEqual([]);
    expect(again.notifications).toEqual([]);
  });

  it('an open incident whose root goes into maintenance is resolved, also when the host it runs on fails meanwhile', () => {
    const mysql = alert('db1.example.com', 'mysql');
    const opened = planIncidents({
      analysis: attributed({ mapper, threshold: 'critical', alerts: [mysql] }),
      open: [],
      alerts: new Map([[mysql.id, mysql]]),
      known: () => false,
      rootSeen: new Map([['db1.example.com::Service[mysqld]', 0]]),
      now: 60_000,
      settleMs: 30_000,
    });
    const incident = opened.writes[0]!.incident;
    // The operators put db1 into maintenance and reboot it: its ping fails too, and explains mysqld.
    const window = { id: 'mw-db1', entities: ['db1.example.com'], start: 61_000, end: 3_600_000, createdBy: 'test', createdAt: 61_000 };
    for (const records of [[mysql], [mysql, alert('db1.example.com', 'ping', 'critical', 62_000)]]) {
      const analysis = attribute(analyse({ alerts: new PlacedAlerts(mapper, 'critical', records), maintenance: maintenanceMask(topology, [window], 63_000) }));
      expect(analysis.decisions.get(mysql.id)).toMatchObject({ verdict: 'suppressed', reason: 'maintenance' });
      const plan = planIncidents({ analysis, open: [incident], alerts: new Map(records.map((r) => [r.id, r])), known: () => true, rootSeen: new Map(), now: 63_000, settleMs: 30_000 });
      expect(plan.writes.map((w) => [w.incident.id, w.change])).toEqual([[incident.id, 'resolved']]);
      expect(plan.notifications.map((n) => [n.kind, n.team])).toEqual([['resolved', 'team:dba']]);
    }
  });

  it('a dependency cycle failing in more places keeps its settle window: the page is not put off by each new alert', () => {
    // Two services that need each other: one root unit, whichever of them fails.
    const cycle = compileTopology({
      entities: ['a', 'b', 'c'].map((h) => ({ id: `${h}.example.com::Service[s]`, kind: 'resource', name: h, managed: true, owners: ['team:dba'] })),
      dependencies: [
        { from: 'a.example.com::Service[s]', to: 'b.example.com::Service[s]', kind: 'hard' },
        { from: 'b.example.com::Service[s]', to: 'a.example.com::Service[s]', kind: 'hard' },
      ],
      runsOn: [],
      members: [],
      teams: [{ id: 'team:dba', name: 'dba', contacts: [] }],
    });
    const cycleMapper = new AlertMapper(cycle, []);
    const on = (h: string, at: number) => ({ ...alert(`${h}.example.com`, 's', 'critical', at), entity: `${h}.example.com::Service[s]` });
    const step = (records: AlertRecord[], rootSeen: Map<string, number>, now: number) =>
      planIncidents({
        analysis: attribute(analyse({ alerts: new PlacedAlerts(cycleMapper, 'critical', records) })),
        open: [],
        alerts: new Map(records.map((r) => [r.id, r])),
        known: () => false,
        rootSeen,
        now,
        settleMs: 30_000,
      });
    const a = on('a', 0);
    const first = step([a], new Map(), 0);
    expect(first.wakeAt).toBe(30_000);
    // b fails 20 s later: the unit is now {a, b}, and its window still ends 30 s after a failed.
    const grown = step([a, on('b', 20_000)], first.rootSeen, 20_000);
    expect(grown.rootSeen.get(['a.example.com::Service[s]', 'b.example.com::Service[s]'].join('\n'))).toBe(0);
    expect(grown.wakeAt).toBe(30_000);
    // c, outside the cycle, is a root of its own and waits a full window.
    const paged = step([a, on('b', 20_000), on('c', 25_000)], grown.rootSeen, 30_000);
    expect(paged.writes.map((w) => w.incident.root)).toEqual([['a.example.com::Service[s]', 'b.example.com::Service[s]']]);
    expect(paged.wakeAt).toBe(60_000);
  });

  it('a team whose part of the root recovered stays told: it hears the incident resolve, without another notice', () => {
    // a (team:x) and b (team:y) need each other: one root unit while both fail.
    const pair = compileTopology({
      entities: [
        { id: 'a.example.com::Service[s]', kind: 'resource', name: 'a', managed: true, owners: ['team:x'] },
        { id: 'b.example.com::Service[s]', kind: 'resource', name: 'b', managed: true, owners: ['team:y'] },
      ],
      dependencies: [
        { from: 'a.example.com::Service[s]', to: 'b.example.com::Service[s]', kind: 'hard' },
        { from: 'b.example.com::Service[s]', to: 'a.example.com::Service[s]', kind: 'hard' },
      ],
      runsOn: [],
      members: [],
      teams: ['x', 'y'].map((t) => ({ id: `team:${t}`, name: t, contacts: [] })),
    });
    const pairMapper = new AlertMapper(pair, []);
    const on = (h: string, status: AlertRecord['status'] = 'critical') => ({ ...alert(`${h}.example.com`, 's', status, 0), entity: `${h}.example.com::Service[s]` });
    const step = (records: AlertRecord[], open: Incident[], now: number) => {
      const analysis = attribute(analyse({ alerts: new PlacedAlerts(pairMapper, 'critical', records) }));
      return planIncidents({ analysis, open, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, rootSeen: new Map(analysis.units.map((u) => [u.key, 0])), now, settleMs: 30_000 });
    };
    const opened = step([on('a'), on('b')], [], 60_000);
    expect(opened.notifications.map((n) => [n.kind, n.team])).toEqual([['page', 'team:x'], ['page', 'team:y']]);
    // a recovers: the root is b alone, owned by team:y; team:x, paged, is a stakeholder now and is not told again.
    const moved = step([on('a', 'ok'), on('b')], [opened.writes[0]!.incident], 70_000);
    const incident = moved.writes[0]!.incident;
    expect(incident).toMatchObject({ root: ['b.example.com::Service[s]'], owners: ['team:y'], stakeholders: ['team:x'] });
    expect(moved.notifications).toEqual([]);
    // b recovers: both teams hear it.
    const resolved = step([on('a', 'ok'), on('b', 'ok')], [incident], 80_000);
    expect(resolved.notifications.map((n) => [n.kind, n.team])).toEqual([['resolved', 'team:y'], ['resolved', 'team:x']]);
  });


  it('a root that changes in the same update as the spare it leaves keeps both in its timeline', () => {
    // a, x and y serve app (one of three is enough); a fails, then a second check on a and a failure of x arrive.
    const three = compileTopology({
      entities: [
        ...['a', 'x', 'y'].map((h) => ({ id: `${h}.example.com::Service[app]`, kind: 'resource' as const, name: h, managed: true, owners: ['team:app'] })),
        { id: 'group:app', kind: 'group', name: 'app', managed: true, owners: [], minHealthy: 1 },
        { id: 'service:app', kind: 'service', name: 'app', managed: true, owners: ['team:app'] },
      ],
      dependencies: [{ from: 'service:app', to: 'group:app', kind: 'hard' }],
      runsOn: [],
      members: ['a', 'x', 'y'].map((h) => ({ group: 'group:app', member: `${h}.example.com::Service[app]` })),
      teams: [{ id: 'team:app', name: 'app', contacts: [] }],
    });
    const threeMapper = new AlertMapper(three, []);
    const on = (h: string, check: string) => ({ ...alert(`${h}.example.com`, check, 'critical', 0), entity: `${h}.example.com::Service[app]` });
    const step = (records: AlertRecord[], open: Incident[], now: number) => {
      const analysis = attribute(analyse({ alerts: new PlacedAlerts(threeMapper, 'critical', records) }));
      return planIncidents({ analysis, open, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, rootSeen: new Map(analysis.units.map((u) => [u.key, 0])), now, settleMs: 30_000 });
    };
    const opened = step([on('a', 'app')], [], 60_000).writes[0]!.incident;
    expect(opened).toMatchObject({ rootAlerts: ['a.example.com/app'], servicesAtRisk: [], groupsWithoutSpare: [] });

    const later = step([on('a', 'app'), on('a', 'ping'), on('x', 'app')], [opened], 70_000);
    const updated = later.writes.find((w) => w.incident.id === opened.id)!.incident;
    expect(updated).toMatchObject({
      rootAlerts: ['a.example.com/app', 'a.example.com/ping'],
      servicesAtRisk: ['service:app'],
      groupsWithoutSpare: ['group:app'],
      holdingUp: ['y.example.com::Service[app]'],
    });
    expect(updated.timeline.slice(1).map((e) => e.text)).toEqual(['service:app at risk: no spare left in group:app', 'failing on the root now: a.example.com/app, a.example.com/ping']);
    // x's own incident sees the same risk; the update tells nobody again (a has been paged, app is not down).
    expect(later.writes.find((w) => w.incident.id !== opened.id)!.incident).toMatchObject({ root: ['x.example.com::Service[app]'], servicesAtRisk: ['service:app'] });
    expect(later.notifications.filter((n) => n.incident.id === opened.id)).toEqual([]);
  });
  it('a root that leaves thousands of groups without a spare: the incident stays one KV value, its lists cut and counted, and stable', () => {
    // One storage host carries a replica of 3,000 volumes, each in a pair (either replica will do) that a service
    // needs; every id is long, as real ones are. Its failure leaves 3,000 pairs on their last replica.
    const n = 3_000;
    const name = (i: number) => String(i).padStart(4, '0');
    const long = 'x'.repeat(60);
    const entities = [
      { id: 'store1.example.com', kind: 'host' as const, name: 'store1', managed: true, owners: ['team:storage'] },
      ...Array.from({ length: n }, (_, i) => [
        { id: `store1.example.com::Volume[${long}-${name(i)}]`, kind: 'resource' as const, name: `a${i}`, host: 'store1.example.com', managed: true, owners: [] },
        { id: `store2.example.com::Volume[${long}-${name(i)}]`, kind: 'resource' as const, name: `b${i}`, managed: true, owners: ['team:storage'] },
        { id: `group:volume-${long}-${name(i)}`, kind: 'group' as const, name: `g${i}`, managed: true, owners: [], minHealthy: 1 },
        { id: `service:${long}-${name(i)}`, kind: 'service' as const, name: `s${i}`, managed: true, owners: ['team:app'] },
      ]).flat(),
    ];
    const storage = compileTopology({
      entities,
      dependencies: Array.from({ length: n }, (_, i) => ({ from: `service:${long}-${name(i)}`, to: `group:volume-${long}-${name(i)}`, kind: 'hard' as const })),
      runsOn: Array.from({ length: n }, (_, i) => ({ resource: `store1.example.com::Volume[${long}-${name(i)}]`, host: 'store1.example.com' })),
      members: Array.from({ length: n }, (_, i) => [
        { group: `group:volume-${long}-${name(i)}`, member: `store1.example.com::Volume[${long}-${name(i)}]` },
        { group: `group:volume-${long}-${name(i)}`, member: `store2.example.com::Volume[${long}-${name(i)}]` },
      ]).flat(),
      teams: [
        { id: 'team:storage', name: 'storage', contacts: [] },
        { id: 'team:app', name: 'app', contacts: [] },
      ],
    });
    // And 8,000 alerts on the volumes it took down, with check names as long: more than 10,000 ids would not fit.
    const root = alert('store1.example.com', 'ping');
    const children = Array.from({ length: 8_000 }, (_, i) => ({
      ...alert('store1.example.com', `volume-${long}-${name(i % n)}-${i}`),
      entity: `store1.example.com::Volume[${long}-${name(i % n)}]`,
    }));
    const records = [root, ...children];
    const analysis = attribute(analyse({ alerts: new PlacedAlerts(new AlertMapper(storage, []), 'critical', records) }));
    const input = { analysis, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, rootSeen: new Map(analysis.units.map((u) => [u.key, 0])), settleMs: 30_000 };
    const plan = planIncidents({ ...input, open: [], now: 60_000 });
    expect(plan.writes).toHaveLength(1);
    const incident = plan.writes[0]!.incident;
    expect(incident.root).toEqual(['store1.example.com']);
    expect(incident.suppressedCount).toBe(8_000);
    expect(incident.suppressed.length).toBeLessThan(8_000);
    expect(incident.suppressed).toEqual(children.map((c) => c.id).sort().slice(0, incident.suppressed.length));
    expect(incident.atRiskCounts).toEqual({ servicesAtRisk: n, criticalAtRisk: 0, groupsWithoutSpare: n, holdingUp: n });
    expect(incident.holdingUp!.length).toBeLessThan(n);
    expect(incident.holdingUp).toEqual(entities.filter((e) => e.id.startsWith('store2.')).map((e) => e.id).sort().slice(0, incident.holdingUp!.length));
    // NATS's default max_payload is 1 MB: the incident fits with room for the KV headers, and so does its page.
    expect(Buffer.byteLength(JSON.stringify(incident))).toBeLessThan(900_000);
    const page = plan.notifications.find((n) => n.kind === 'page')!;
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(500_000);
    // The page counts what it does not list.
    expect(facts(page, undefined).find((f) => f.label === 'Holding them up (do not touch)')!.items.at(-1)).toBe(`and ${n - 10} more`);
    // The timeline says what it opened with in a sentence, not thousands of ids.
    expect(incident.timeline.every((e) => e.text.length < 1_000)).toBe(true);
    // Decided again on the same state, the cut lists compare equal: nothing to write, nobody told.
    const again = planIncidents({ ...input, open: [incident], rootSeen: plan.rootSeen, now: 61_000 });
    expect(again.writes).toEqual([]);
    expect(again.notifications).toEqual([]);
  });

  it('a core switch that takes down 15,000 services of 200 teams: the incident lists what fits, counts all, tells each team which are its own, and grows', () => {
    const pad = (i: number) => String(i).padStart(5, '0');
    const service = (i: number) => `service:customer-portal-eu-west-${pad(i)}`;
    // `n` services, each needing core1; service i is owned by team t(i % 200), and those from 15,000 by new teams.
    const estate = (n: number) =>
      compileTopology({
        entities: [
          { id: 'core1.example.com', kind: 'host' as const, name: 'core1', managed: true, owners: ['team:net'] },
          ...Array.from({ length: n }, (_, i) => ({ id: service(i), kind: 'service' as const, name: `s${i}`, managed: true, owners: [`team:t${i < 15_000 ? i % 200 : 200 + (i % 50)}`] })),
        ],
        dependencies: Array.from({ length: n }, (_, i) => ({ from: service(i), to: 'core1.example.com', kind: 'hard' as const })),
        runsOn: [],
        members: [],
        teams: [{ id: 'team:net', name: 'net', contacts: [] }, ...Array.from({ length: 250 }, (_, i) => ({ id: `team:t${i}`, name: `t${i}`, contacts: [] }))],
      });
    const records = [alert('core1.example.com', 'ping')];
    const decide = (n: number, open: Incident[], rootSeen?: Map<string, number>) => {
      const analysis = attribute(analyse({ alerts: new PlacedAlerts(new AlertMapper(estate(n), []), 'critical', records) }));
      return planIncidents({ analysis, open, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, rootSeen: rootSeen ?? new Map(analysis.units.map((u) => [u.key, 0])), now: 60_000 + open.length, settleMs: 30_000 });
    };
    const plan = decide(15_000, []);
    const incident = plan.writes[0]!.incident;
    const all = Array.from({ length: 15_000 }, (_, i) => service(i)).sort();
    expect(incident.affectedServiceCount).toBe(15_000);
    expect(incident.affectedServices.length).toBeGreaterThan(1_000);
    expect(incident.affectedServices).toEqual(all.slice(0, incident.affectedServices.length));
    expect(Buffer.byteLength(JSON.stringify(incident))).toBeLessThanOrEqual(INCIDENT_BYTES);
    const page = plan.notifications.find((n) => n.kind === 'page')!;
    expect(page.summary).toMatch(/^core1\.example\.com is failing: 15000 services affected \(service:customer-portal-eu-west-00000, /);
    expect(facts(page, undefined).find((f) => f.label === 'Affected services')!.items.at(-1)).toBe('and 14990 more');
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(NOTIFICATION_BYTES);
    // Each of the 200 teams hears which of its services are down, in a notice a fraction of the page's size.
    const notices = plan.notifications.filter((n) => n.kind === 'stakeholder');
    expect(notices.map((n) => n.team).sort()).toEqual(Array.from({ length: 200 }, (_, i) => `team:t${i}`).sort());
    const t7 = notices.find((n) => n.team === 'team:t7')!;
    expect(t7.teamServices).toEqual(Array.from({ length: 75 }, (_, k) => service(7 + 200 * k)));
    expect(t7.summary).toBe(`core1.example.com is failing: 75 of your services affected (${[0, 1, 2, 3, 4].map((k) => service(7 + 200 * k)).join(', ')}, …); 15000 services in all`);
    expect(t7.incident.affectedServiceCount).toBe(15_000);
    expect(facts(t7, undefined).find((f) => f.label === 'Your services affected')!.items.at(-1)).toBe('and 65 more');
    expect(Math.max(...notices.map((n) => Buffer.byteLength(JSON.stringify(n))))).toBeLessThan(64 * 1024);
    // Decided again on the same state: nothing to write, nobody told.
    const again = decide(15_000, [incident], plan.rootSeen);
    expect(again.writes).toEqual([]);
    expect(again.notifications).toEqual([]);
    // An import adds 5,000 services behind the switch, owned by 50 teams not told yet: they sort past the list's
    // cut, so the count says it grew, and only the new teams hear of it, each of its own 100.
    const grown = decide(20_000, [incident], plan.rootSeen);
    expect(grown.writes).toHaveLength(1);
    const bigger = grown.writes[0]!.incident;
    expect(bigger.affectedServiceCount).toBe(20_000);
    expect(bigger.affectedServices).toEqual(incident.affectedServices);
    expect(bigger.timeline.at(-1)!.text).toBe('now affects 20000 services');
    expect(grown.notifications.map((n) => `${n.kind} ${n.team}`).sort()).toEqual(Array.from({ length: 50 }, (_, i) => `stakeholder team:t${200 + i}`).sort());
    expect(grown.notifications.find((n) => n.team === 'team:t201')!.teamServices).toHaveLength(100);
    expect(decide(20_000, [bigger], plan.rootSeen).writes).toEqual([]);
  });

  it('a node whose 20,000 pod checks all map to the host: the incident lists the first root alerts, counts all, and finds its incident for any', () => {
    const checks = Array.from({ length: 20_000 }, (_, i) => `kube-pod-ready-payments-${String(i).padStart(5, '0')}`);
    const records = checks.map((check) => alert('db1.example.com', check));
    const decide = (failing: AlertRecord[], open: Incident[], rootSeen?: Map<string, number>) => {
      const a = attributed({ mapper, threshold: 'critical', alerts: failing });
      const input = { analysis: a, alerts: new Map(failing.map((r) => [r.id, r])), known: () => false, rootSeen: rootSeen ?? new Map(a.units.map((u) => [u.key, 0])), settleMs: 30_000 };
      return { a, input, plan: planIncidents({ ...input, open, now: 60_000 + open.length }) };
    };
    const { a, input, plan } = decide(records, []);
    const incident = plan.writes[0]!.incident;
    expect(incident.root).toEqual(['db1.example.com']);
    expect(incident.rootAlertCount).toBe(20_000);
    expect(incident.rootAlerts.length).toBeGreaterThan(1_000);
    expect(incident.rootAlerts).toEqual(records.map((r) => r.id).slice(0, incident.rootAlerts.length));
    expect(Buffer.byteLength(JSON.stringify(incident))).toBeLessThanOrEqual(INCIDENT_BYTES);
    const page = plan.notifications.find((n) => n.kind === 'page')!;
    expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThanOrEqual(NOTIFICATION_BYTES);
    expect(page.incident.rootAlertCount).toBe(20_000);
    expect(facts(page, undefined).find((f) => f.label === 'Root alerts')!.items.at(-1)).toBe('and 19990 more');
    // An alert past the list still names its incident.
    const last = records.at(-1)!;
    expect(incidentOf(incidentIndex([incident]), alertRef(input.alerts.get(last.id)!, a))?.id).toBe(incident.id);
    // Decided again: nothing to write. A quarter recovers: the count says so.
    expect(decide(records, [incident], plan.rootSeen).plan.writes).toEqual([]);
    const fewer = decide(records.slice(5_000), [incident], plan.rootSeen).plan;
    expect(fewer.writes).toHaveLength(1);
    expect(fewer.writes[0]!.incident).toMatchObject({ id: incident.id, rootAlertCount: 15_000 });
    expect(fewer.writes[0]!.incident.timeline.at(-1)!.text).toBe(`failing on the root now: ${records.slice(5_000, 5_005).map((r) => r.id).join(', ')} and 14995 more`);
    expect(fewer.notifications).toEqual([]);
  });

  it('an incident that outgrows its KV value gives way: suppressed ids first, then the timeline\'s middle, then old notes, and stays stable', () => {
    const mailq = alert('mail1.example.com', 'mailq');
    const [exim] = topology.idsOf([mapper.map(mailq).entity]);
    const children = Array.from({ length: 3_000 }, (_, i) => ({ ...alert('mail1.example.com', `queue-${String(i).padStart(5, '0')}`), entity: exim }));
    const records = [alert('db1.example.com', 'mysql'), alert('db2.example.com', 'mysql'), ...children];
    const a = attributed({ mapper, threshold: 'critical', alerts: records });
    // A server whose max_payload is smaller than NATS's default: the planner is given less room.
    const input = { analysis: a, alerts: new Map(records.map((r) => [r.id, r])), known: () => false, rootSeen: new Map(a.units.map((u) => [u.key, 0])), settleMs: 30_000, messageBytes: 40_000 };
    const plan = planIncidents({ ...input, open: [], now: 60_000 });
    const incident = plan.writes.map((w) => w.incident).find((i) => i.suppressed.length > 0)!;
    expect(Buffer.byteLength(JSON.stringify(incident))).toBeLessThanOrEqual(40_000);
    expect(incident.suppressedCount).toBe(3_000);
    expect(incident.suppressed.length).toBeGreaterThan(100);
    expect(incident.suppressed).toEqual(children.map((c) => c.id).slice(0, incident.suppressed.length));
    const again = planIncidents({ ...input, open: plan.writes.map((w) => w.incident), rootSeen: plan.rootSeen, now: 61_000 });
    expect(again.writes).toEqual([]);

    // Notes and a long timeline: the suppressed list goes first, then the middle of the timeline, then the oldest notes.
    const talkative: Incident = {
      ...incident,
      timeline: Array.from({ length: 200 }, (_, i) => ({ at: i, change: 'updated' as const, text: `entry ${i} `.padEnd(400, '.') })),
      notes: Array.from({ length: 50 }, (_, i) => ({ n: i + 1, at: i, by: 'ops', text: 'x'.repeat(1_000), tell: false })),
    };
    const fitted = fitIncident(talkative, 60_000);
    expect(Buffer.byteLength(JSON.stringify(fitted))).toBeLessThanOrEqual(60_000);
    expect(fitted.suppressed).toEqual([]);
    expect(fitted.suppressedCount).toBe(3_000);
    expect(fitted.timeline[0]!.text).toMatch(/^entry 0 /);
    expect(fitted.timeline.at(-1)!.text).toMatch(/^entry 199 /);
    expect(fitted.notes!.at(-1)!.n).toBe(50);
    expect(fitIncident(incident, 60_000)).toBe(incident);
    expect(() => fitIncident({ ...incident, root: Array.from({ length: 5_000 }, (_, i) => `host-${i}.example.com`) }, 60_000)).toThrow(/inc-\w+ takes \d+ bytes of JSON with its lists cut \(5000 root entities/);

    // Planned on a server that takes 10 KB messages, an incident of 600 root alerts cannot be made to fit: it is
    // said to be unwritable, and the rest of the plan (the other root's incident) goes on.
    const many = [...Array.from({ length: 600 }, (_, i) => alert('db1.example.com', `check-${String(i).padStart(4, '0')}`)), alert('log1.example.com', 'dns')];
    const b = attributed({ mapper, threshold: 'critical', alerts: many });
    const small = planIncidents({ analysis: b, alerts: new Map(many.map((r) => [r.id, r])), known: () => false, rootSeen: new Map(b.units.map((u) => [u.key, 0])), settleMs: 30_000, now: 60_000, open: [], messageBytes: 10_000 });
    expect(small.unwritable).toEqual([{ incident: expect.stringMatching(/^inc-/), reason: expect.stringMatching(/600 root alerts\); a KV value takes 10000$/) }]);
    expect(small.writes.map((w) => w.incident.rootAlerts)).toEqual([['log1.example.com/dns']]);
  });

  it('critical equipment left one failure from down is at risk in the incident and its page, marked critical', () => {
    const input = estateInput();
    input.entities = input.entities.map((e) => (e.id === 'mail2.example.com::Service[exim4]' ? { ...e, critical: true } : e));
    const marked = compileTopology(input);
    const db1 = alert('db1.example.com', 'mysql');
    const a = attribute(analyse({ alerts: new PlacedAlerts(new AlertMapper(marked, []), 'critical', [db1]) }));
    const plan = planIncidents({ analysis: a, open: [], alerts: new Map([[db1.id, db1]]), known: () => false, rootSeen: new Map([[a.units[0]!.key, 0]]), now: 60_000, settleMs: 30_000 });
    expect(plan.writes[0]!.incident).toMatchObject({ servicesAtRisk: ['service:mail'], criticalAtRisk: ['mail2.example.com::Service[exim4]'] });
    expect(plan.writes[0]!.incident.timeline.at(-1)!.text).toBe('service:mail, mail2.example.com::Service[exim4] (critical) at risk: no spare left in group:capability:mysql-greylist');
    const page = plan.notifications.find((n) => n.kind === 'page')!;
    expect(page.summary).toBe('db1.example.com::Service[mysqld] is failing: no service affected; service:mail, mail2.example.com::Service[exim4] (critical) at risk (no spare left)');
    expect(facts(page, undefined)).toContainEqual({ label: 'At risk (no spare left)', items: ['service:mail', 'mail2.example.com::Service[exim4] (critical)'] });
  });

  it('a note to tell goes once to every team that heard of the incident, with a quiet write that it was told', () => {
    const a = attributed({ mapper, threshold: 'critical', alerts: [alert('db1.example.com', 'mysql'), alert('db2.example.com', 'mysql'), alert('mail1.example.com', 'mailq')] });
    const alerts = new Map([...a.decisions.keys()].map((id) => [id, alert(id.split('/')[0]!, id.split('/')[1]!)]));
    const input = { analysis: a, alerts, known: () => false, rootSeen: new Map(a.units.map((u) => [u.key, 0])), settleMs: 30_000 };
    const [db1] = planIncidents({ ...input, open: [], now: 40_000 }).writes.map((w) => w.incident);
    const noted: Incident = {
      ...db1!,
      notes: [
        { n: 1, at: 41_000, by: 'ops', text: 'looking', tell: false },
        { n: 2, at: 42_000, by: 'ops', text: 'failing over to db2', tell: true },
      ],
    };
    const plan = planIncidents({ ...input, open: [noted], now: 43_000 });
    const told = plan.notifications.filter((n) => n.change === 'note');
    expect(told.map((n) => [n.team, n.dedupKey, n.reason])).toEqual([
      ['team:dba', `${db1!.id}/update/team:dba/note/2`, 'ops: failing over to db2'],
      ['team:mail-team', `${db1!.id}/update/team:mail-team/note/2`, 'ops: failing over to db2'],
    ]);
    expect(told[0]!.note).toEqual({ by: 'ops', text: 'failing over to db2', at: new Date(42_000).toISOString() });
    const write = plan.writes.find((w) => w.incident.id === db1!.id)!;
    expect(write).toMatchObject({ change: 'updated', quiet: true });
    expect(write.incident.notes!.map((n) => n.told)).toEqual([undefined, true]);
    // Told, it is not told again.
    expect(planIncidents({ ...input, open: [write.incident], now: 44_000 }).notifications.filter((n) => n.change === 'note')).toEqual([]);
    // db1 recovers in the run that would tell the note: its teams hear both, and the incident is stored resolved.
    const recovered = attributed({ mapper, threshold: 'critical', alerts: [alert('db1.example.com', 'mysql', 'ok')] });
    const closing = planIncidents({ ...input, analysis: recovered, alerts: new Map([['db1.example.com/mysql', alert('db1.example.com', 'mysql', 'ok')]]), open: [noted], now: 44_000 });
    expect(closing.notifications.map((n) => `${n.kind}${n.change ? `/${n.change}` : ''} ${n.team}`)).toEqual([
      'resolved team:dba',
      'resolved team:mail-team',
      'update/note team:dba',
      'update/note team:mail-team',
    ]);
    expect(closing.writes).toMatchObject([{ change: 'resolved', incident: { status: 'resolved', notes: [{ n: 1 }, { n: 2, told: true }] } }]);
  });

  it('the same failure decided twice gets the same incident id and dedup keys', () => {
    const a = attributed({ mapper, threshold: 'critical', alerts: [alert('lb1.example.com', 'haproxy')] });
    const alerts = new Map([['lb1.example.com/haproxy', alert('lb1.example.com', 'haproxy')]]);
    const plan = () => planIncidents({ analysis: a, open: [], alerts, known: () => false, rootSeen: new Map([[a.units[0]!.key, 0]]), now: 60_000, settleMs: 30_000 });
    expect(plan().notifications.map((n) => n.dedupKey)).toEqual(plan().notifications.map((n) => n.dedupKey));
    expect(plan().writes[0]!.incident.id).toMatch(/^inc-[0-9a-f]{16}$/);
  });
});
