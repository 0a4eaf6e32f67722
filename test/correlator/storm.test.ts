import { describe, expect, it } from 'vitest';
import type { AlertRecord } from '../../src/correlator/alert.ts';
import { analyse, attribute } from '../../src/correlator/analysis.ts';
import type { Incident } from '../../src/correlator/incident.ts';
import { AlertMapper } from '../../src/correlator/mapping.ts';
import { PlacedAlerts } from '../../src/correlator/placed.ts';
import { planIncidents, type Plan, type PlanInput } from '../../src/correlator/plan.ts';
import { commonPlace } from '../../src/correlator/storm.ts';
import { compileTopology, type EntityInput } from '../../src/engine/index.ts';
import { addressee, facts } from '../../src/notify/render.ts';

/**
 * Page storms (src/correlator/storm.ts) on the planner alone: hosts the graph knows nothing in common of fail at
 * once, each a root cause of its own, all owned by team:web.
 */
const minute = 60_000;
const hosts = Array.from({ length: 12 }, (_, i) => `web${String(i + 1).padStart(2, '0')}.example.com`);
const host = (id: string, owners: string[], place?: EntityInput['place']): EntityInput => ({ id, kind: 'host', name: id, managed: true, owners, ...(place ? { place } : {}) });
/** web01–06 stand in rack r7, web07–12 in rack r8, all in dc1; the graph holds no dependency on either. */
const topology = compileTopology({
  entities: [
    ...hosts.map((h, i) => host(h, ['team:web'], { rack: i < 6 ? 'r7' : 'r8', location: 'dc1' })),
    host('db1.example.com', ['team:dba'], { rack: 'r7', location: 'dc2' }),
    host('lost.example.com', []),
    host('shared.example.com', ['team:dba', 'team:web']),
  ],
  dependencies: [],
  runsOn: [],
  members: [],
  teams: [
    { id: 'team:web', name: 'web', contacts: [] },
    { id: 'team:dba', name: 'dba', contacts: [] },
  ],
});
const mapper = new AlertMapper(topology, []);

const ping = (h: string, status: AlertRecord['status'] = 'critical', since = 0): AlertRecord => ({
  id: `${h}/ping`,
  host: h,
  check: 'ping',
  status,
  since,
  time: since,
  seq: 1,
  source: 'test',
  tags: {},
});

/** The estate through time: failing hosts in, plans out, incidents kept as the reconciler would store them. */
function estate(input: Partial<PlanInput> = {}, on: AlertMapper = mapper) {
  const stored = new Map<string, Incident>();
  return {
    stored,
    plan(failing: readonly string[], now: number): Plan {
      const records = failing.map((h) => ping(h));
      const analysis = attribute(analyse({ alerts: new PlacedAlerts(on, 'critical', records) }));
      const plan = planIncidents({
        analysis,
        open: [...stored.values()].filter((i) => i.status !== 'resolved'),
        alerts: new Map(records.map((r) => [r.id, r])),
        known: (id) => stored.has(id),
        rootSeen: new Map(analysis.units.map((u) => [u.key, 0])),
        now,
        settleMs: 0,
        storm: { pages: 3, windowMs: 10 * minute },
        ...input,
      });
      for (const w of plan.writes) stored.set(w.incident.id, w.incident);
      return plan;
    },
    storms: () => [...stored.values()].filter((i) => i.storm),
    byRoot: (h: string) => [...stored.values()].find((i) => !i.storm && i.root.includes(h))!,
  };
}

const told = (plan: Plan) => plan.notifications.map((n) => `${n.kind}${n.change ? `/${n.change}` : ''} ${n.team} ${n.incident.storm ? 'storm' : n.incident.root.join(',')}`);

/** Three pages (the limit), then two more root causes a second later: a storm of five, holding the last two pages. */
function pagedThenStorm(e: ReturnType<typeof estate>): Plan {
  expect(told(e.plan(hosts.slice(0, 3), minute))).toEqual(hosts.slice(0, 3).map((h) => `page team:web ${h}`));
  return e.plan(hosts.slice(0, 5), minute + 1_000);
}

describe('page storms', () => {
  it('a burst past the limit is one page for the storm, which lists every root cause and holds each page', () => {
    const e = estate();
    const plan = e.plan(hosts.slice(0, 5), minute);
    expect(told(plan)).toEqual(['page team:web storm']);
    const [storm] = e.storms();
    expect(storm).toMatchObject({ status: 'open', owners: ['team:web'], severity: 'critical', root: hosts.slice(0, 5), openedAt: minute });
    expect(storm!.storm).toMatchObject({ team: 'team:web', memberCount: 5, toldMembers: 5 });
    expect(storm!.storm!.members).toEqual(hosts.slice(0, 5).map((h) => e.byRoot(h).id));
    expect(hosts.slice(0, 5).map((h) => e.byRoot(h).heldBy)).toEqual(hosts.slice(0, 5).map(() => [{ team: 'team:web', storm: storm!.id }]));
    // Each root cause has its incident, opened as ever.
    expect(plan.writes.filter((w) => w.change === 'opened' && !w.incident.storm).map((w) => w.incident.root)).toEqual(hosts.slice(0, 5).map((h) => [h]));
    const page = plan.notifications[0]!;
    expect(page.dedupKey).toBe(`${storm!.id}/page/team:web`);
    expect(page.summary).toBe(`storm for team:web: 5 root causes failing (${hosts.slice(0, 5).join(', ')}); all 5 of their hosts in rack r7 in dc1, which holds 6`);
    expect(page.incident.storm).toEqual({ members: storm!.storm!.members, memberCount: 5 });
    // What Slack and email say of it: one page for many, and which incidents it holds.
    expect(addressee(page)).toBe('Page for team:web: a storm of root causes you own, one page for all of them; each has its own incident.');
    // Acknowledged, a storm says who is on it, as any incident does.
    expect(addressee({ ...page, kind: 'update', change: 'acknowledged', incident: { ...page.incident, acknowledgedBy: 'ops@noc' } })).toBe(
      'Update for team:web: ops@noc acknowledged the incident and is on it.',
    );
    expect(facts(page, undefined).slice(0, 2)).toEqual([
      { label: 'Root causes', items: hosts.slice(0, 5) },
      { label: 'Incidents in the storm', items: [`5 (${storm!.storm!.members.join(', ')})`] },
    ]);
    // Deciding again changes nothing and tells nobody.
    const again = e.plan(hosts.slice(0, 5), minute + 1_000);
    expect(again.writes).toEqual([]);
    expect(again.notifications).toEqual([]);
  });

  it('pages a team up to the limit, then once for the storm, which takes the paged ones in as members', () => {
    const e = estate();
    const plan = pagedThenStorm(e);
    expect(told(plan)).toEqual(['page team:web storm']);
    const [storm] = e.storms();
    expect(storm).toMatchObject({ status: 'open', owners: ['team:web'], severity: 'critical' });
    // Members in the order they joined: the three paged (opened together, so by id), then the two held.
    expect([...storm!.root.slice(0, 3)].sort()).toEqual(hosts.slice(0, 3));
    expect(storm!.root.slice(3)).toEqual(hosts.slice(3, 5));
    expect(storm!.storm).toMatchObject({ team: 'team:web', memberCount: 5, toldMembers: 5 });
    expect(storm!.storm!.members).toEqual(storm!.root.map((h) => e.byRoot(h).id));
    // The pages sent are not held; the two after the limit are, by this storm.
    expect(hosts.slice(0, 3).map((h) => e.byRoot(h).heldBy)).toEqual([undefined, undefined, undefined]);
    expect(hosts.slice(3, 5).map((h) => e.byRoot(h).heldBy)).toEqual([
      [{ team: 'team:web', storm: storm!.id }],
      [{ team: 'team:web', storm: storm!.id }],
    ]);
    expect(plan.notifications[0]!.summary).toMatch(/^storm for team:web: 5 root causes failing/);
  });

  it('a growing storm tells its team at most once a minute how many it holds; other teams are paged as ever', () => {
    const e = estate();
    e.plan(hosts.slice(0, 5), minute);
    const grown = e.plan([...hosts.slice(0, 7), 'db1.example.com'], minute + 20_000);
    expect(told(grown)).toEqual(['page team:dba db1.example.com']);
    const [storm] = e.storms();
    expect(storm!.storm).toMatchObject({ memberCount: 7, toldMembers: 5 });
    expect(grown.wakeAt).toBe(2 * minute);
    const update = e.plan([...hosts.slice(0, 7), 'db1.example.com'], 2 * minute);
    expect(told(update)).toEqual(['update/storm team:web storm']);
    expect(update.notifications[0]).toMatchObject({
      dedupKey: `${storm!.id}/update/team:web/storm/1`,
      reason: '2 more root causes in the last 1m, 7 in all',
      // web07 stands in rack r8: what the seven share is dc1.
      summary: expect.stringMatching(/^storm for team:web: 7 root causes failing \(.*\); all 7 of their hosts in location dc1, which holds 12$/),
    });
    expect(e.plan([...hosts.slice(0, 7), 'db1.example.com'], 3 * minute).notifications).toEqual([]);
  });

  it('the held team hears of recoveries through the storm: resolved when the last of its root causes is', () => {
    const e = estate();
    pagedThenStorm(e);
    const some = e.plan(hosts.slice(3, 5), 2 * minute);
    // The three paged incidents resolve and say so; the storm holds on while two of its root causes fail.
    expect(told(some)).toEqual(hosts.slice(0, 3).map((h) => `resolved team:web ${h}`));
    expect(e.storms()[0]!.status).toBe('open');
    const all = e.plan([], 3 * minute);
    expect(told(all)).toEqual(['resolved team:web storm']);
    expect(all.notifications[0]!.reason).toBe('all 5 of its root causes recovered');
    expect(e.storms()[0]).toMatchObject({ status: 'resolved', resolvedAt: 3 * minute });
    expect(hosts.slice(0, 5).every((h) => e.byRoot(h).status === 'resolved')).toBe(true);
  });

  it('reminds of the storm, not of the pages it holds', () => {
    const e = estate({ remindMs: 60 * minute });
    pagedThenStorm(e);
    const reminders = e.plan(hosts.slice(0, 5), 62 * minute);
    expect(told(reminders).sort()).toEqual([...hosts.slice(0, 3).map((h) => `update/reminder team:web ${h}`), 'update/reminder team:web storm'].sort());
  });

  it('acknowledging the storm acknowledges what it holds for its team; an incident that paged another team too stays open', () => {
    const e = estate();
    pagedThenStorm(e);
    // shared is web's and dba's: the storm holds web's page, dba is paged.
    expect(told(e.plan([...hosts.slice(0, 5), 'shared.example.com'], minute + 2_000))).toEqual(['page team:dba shared.example.com']);
    const [storm] = e.storms();
    e.stored.set(storm!.id, { ...storm!, status: 'acknowledged', acknowledgedAt: minute + 3_000, acknowledgedBy: 'alice' });

    const plan = e.plan([...hosts.slice(0, 5), 'shared.example.com'], minute + 4_000);
    const reason = `acknowledged by alice with the storm ${storm!.id}`;
    // The three pages sent before the storm stop escalating; the two it held tell nobody; the storm says who is on it.
    expect(told(plan).sort()).toEqual([...hosts.slice(0, 3).map((h) => `update/acknowledged team:web ${h}`), 'update/acknowledged team:web storm'].sort());
    expect(plan.notifications.filter((n) => !n.incident.storm).every((n) => n.reason === reason)).toBe(true);
    for (const h of hosts.slice(0, 5)) {
      expect(e.byRoot(h)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice', acknowledgedAt: minute + 4_000, acknowledgementTold: true });
      expect(e.byRoot(h).timeline.at(-1)).toMatchObject({ change: 'acknowledged', text: reason });
    }
    expect(plan.writes.filter((w) => w.change === 'acknowledged').length).toBe(5);
    expect(e.byRoot('shared.example.com').status).toBe('open');

    // A root cause that joins the acknowledged storm is acknowledged with it, and its page stays held.
    const joined = e.plan([...hosts.slice(0, 6), 'shared.example.com'], minute + 5_000);
    expect(told(joined)).toEqual([]);
    expect(e.byRoot(hosts[5]!)).toMatchObject({ status: 'acknowledged', acknowledgedBy: 'alice', heldBy: [{ team: 'team:web', storm: storm!.id }] });
    expect(joined.writes.find((w) => w.incident.root.includes(hosts[5]!))!.change).toBe('opened');
    expect(e.plan([...hosts.slice(0, 6), 'shared.example.com'], minute + 6_000).notifications).toEqual([]);
  });

  it('a storm takes members while one joined within the window; after a quiet window, pages go out again', () => {
    const e = estate();
    e.plan(hosts.slice(0, 4), minute);
    // Eleven minutes on, the storm has taken nobody for longer than the window: web05 pages (one page in the window).
    const later = e.plan(hosts.slice(0, 5), 12 * minute);
    expect(told(later)).toEqual([`page team:web ${hosts[4]}`]);
    expect(e.storms()[0]!.storm!.memberCount).toBe(4);
  });

  it('pages spread over more than the window never storm; the roots without an owner storm as nobody in particular', () => {
    const e = estate();
    const spread = hosts.slice(0, 6).flatMap((h, i) => told(e.plan(hosts.slice(0, i + 1), (1 + 4 * i) * minute)));
    expect(spread).toEqual(hosts.slice(0, 6).map((h) => `page team:web ${h}`));
    expect(e.storms()).toEqual([]);

    const unowned = estate({ storm: { pages: 1, windowMs: 10 * minute } });
    const plan = unowned.plan(['lost.example.com', 'nowhere.example.org'], minute);
    expect(told(plan)).toEqual(['page null storm']);
    expect(plan.notifications[0]!.summary).toMatch(/^storm for nobody in particular: 2 root causes failing/);
  });

  it('names what the hosts share only when every one of them shares it', () => {
    expect(commonPlace(topology, [hosts[0]!, hosts[1]!])).toBe('all 2 of their hosts in rack r7 in dc1, which holds 6');
    // Rack r7 of dc2 is another rack: db1 and web01 share no place.
    expect(commonPlace(topology, [hosts[0]!, 'db1.example.com'])).toBeUndefined();
    expect(commonPlace(topology, [hosts[0]!, 'lost.example.com'])).toBeUndefined();
    expect(commonPlace(topology, [hosts[0]!, 'nowhere.example.org'])).toBeUndefined();
    expect(commonPlace(topology, [hosts[0]!])).toBeUndefined();
  });

  it('says what its root causes together leave without a spare, and takes it back when a spare returns', () => {
    // Six hosts serve a pool that needs two; four fail at once, a storm, and the last two hold the pool up.
    const pool = Array.from({ length: 6 }, (_, i) => `pool${i + 1}.example.com`);
    const poolTopology = compileTopology({
      entities: [
        ...pool.map((h) => host(h, ['team:web'])),
        { id: 'group:pool', kind: 'group', name: 'pool', managed: true, owners: [], minHealthy: 2 },
        { id: 'service:pool', kind: 'service', name: 'pool', managed: true, owners: ['team:shop'] },
      ],
      dependencies: [{ from: 'service:pool', to: 'group:pool', kind: 'hard' }],
      runsOn: [],
      members: pool.map((h) => ({ group: 'group:pool', member: h })),
      teams: ['web', 'shop'].map((t) => ({ id: `team:${t}`, name: t, contacts: [] })),
    });
    const e = estate({}, new AlertMapper(poolTopology, []));
    const plan = e.plan;
    const storm = () => e.storms()[0]!;

    const paged = plan(pool.slice(0, 4), minute);
    expect(told(paged)).toEqual(['page team:web storm']);
    expect(storm()).toMatchObject({ affectedServices: [], servicesAtRisk: ['service:pool'], groupsWithoutSpare: ['group:pool'], holdingUp: pool.slice(4) });
    expect(storm().timeline.map((e) => e.text)).toContain('service:pool at risk: no spare left in group:pool');
    const page = paged.notifications[0]!;
    expect(page.summary).toBe(`storm for team:web: 4 root causes failing (${pool.slice(0, 4).join(', ')}); service:pool at risk (no spare left)`);
    expect(facts(page, undefined)).toEqual(
      expect.arrayContaining([
        { label: 'At risk (no spare left)', items: ['service:pool'] },
        { label: 'Holding them up (do not touch)', items: pool.slice(4) },
      ]),
    );

    // pool1 comes back: a spare again. The storm says so, and tells nobody (nothing new failed).
    const spare = plan(pool.slice(1, 4), minute + 10_000);
    expect(storm()).toMatchObject({ status: 'open', servicesAtRisk: [], groupsWithoutSpare: [], holdingUp: [] });
    expect(spare.writes.map((w) => w.incident.id)).toContain(storm().id);
    expect(spare.notifications.filter((n) => n.incident.storm)).toEqual([]);
    // Deciding again changes nothing.
    expect(plan(pool.slice(1, 4), minute + 11_000).writes).toEqual([]);
  });

  it('a team whose services the storm takes down is told once for it, as a stakeholder: no page, no acknowledging, its resolution once', () => {
    // The same twelve hosts, each running one of team:app's services, which needs it.
    const apps = hosts.map((h) => `service:app-${h.slice(3, 5)}`);
    const withApps = compileTopology({
      entities: [
        ...hosts.map((h) => host(h, ['team:web'])),
        ...apps.map((id): EntityInput => ({ id, kind: 'service', name: id, managed: true, owners: ['team:app'] })),
      ],
      dependencies: apps.map((from, i) => ({ from, to: hosts[i]!, kind: 'hard' as const })),
      runsOn: [],
      members: [],
      teams: [
        { id: 'team:web', name: 'web', contacts: [] },
        { id: 'team:app', name: 'app', contacts: [] },
      ],
    });
    const e = estate({ remindMs: 60 * minute }, new AlertMapper(withApps, []));
    expect(told(e.plan(hosts.slice(0, 3), minute)).sort()).toEqual([...hosts.slice(0, 3).map((h) => `page team:web ${h}`), ...hosts.slice(0, 3).map((h) => `stakeholder team:app ${h}`)].sort());
    // Two more: one page for team:web's storm, one notice for team:app's, each holding what would have followed.
    const plan = e.plan(hosts.slice(0, 5), minute + 1_000);
    expect(told(plan)).toEqual(['page team:web storm', 'stakeholder team:app storm']);
    const pageStorm = e.storms().find((i) => !i.storm!.holds)!;
    const noticeStorm = e.storms().find((i) => i.storm!.holds === 'stakeholder')!;
    expect(noticeStorm).toMatchObject({ owners: [], stakeholders: ['team:app'], storm: { team: 'team:app', memberCount: 5, toldMembers: 5 } });
    expect(noticeStorm.id).not.toBe(pageStorm.id);
    expect(hosts.slice(3, 5).map((h) => e.byRoot(h).heldBy)).toEqual(
      hosts.slice(3, 5).map(() => [
        { team: 'team:web', storm: pageStorm.id },
        { team: 'team:app', storm: noticeStorm.id, notice: 'stakeholder' },
      ]),
    );
    const notice = plan.notifications.find((n) => n.team === 'team:app')!;
    expect(notice).toMatchObject({ kind: 'stakeholder', dedupKey: `${noticeStorm.id}/stakeholder/team:app`, teamServices: apps.slice(0, 5) });
    expect(notice.incident.storm).toMatchObject({ memberCount: 5, holds: 'stakeholder' });
    expect(notice.summary).toBe(`storm for team:app (services affected): 5 root causes failing (${noticeStorm.root.join(', ')})`);
    expect([...noticeStorm.root].sort()).toEqual(hosts.slice(0, 5));
    expect(addressee(notice)).toBe('Notice for team:app: a storm of root causes takes down services of yours, one notice for all of them; their owners have been paged.');
    // Acknowledging the notice storm acknowledges none of its members: team:app owns none of the roots.
    e.stored.set(noticeStorm.id, { ...noticeStorm, status: 'acknowledged', acknowledgedBy: 'app-oncall' });
    const acked = e.plan(hosts.slice(0, 5), minute + 2_000);
    expect(told(acked)).toEqual(['update/acknowledged team:app storm']);
    expect(hosts.slice(0, 5).map((h) => e.byRoot(h).status)).toEqual(hosts.slice(0, 5).map(() => 'open'));
    // Reminders go to the roots' owners, never to a stakeholder storm.
    expect(told(e.plan(hosts.slice(0, 5), 62 * minute)).filter((t) => t.includes('team:app'))).toEqual([]);
    // Recovery: team:app hears of the three it was told of itself, and of the storm once, not of the two it holds.
    const recovered = e.plan([], 63 * minute);
    expect(told(recovered).filter((t) => t.includes('team:app')).sort()).toEqual([...hosts.slice(0, 3).map((h) => `resolved team:app ${h}`), 'resolved team:app storm'].sort());
    expect(e.plan([], 64 * minute).notifications).toEqual([]);
  });

  it('off (notify.storm: false), every root cause pages', () => {
    const e = estate({ storm: undefined });
    expect(told(e.plan(hosts, minute))).toEqual(hosts.map((h) => `page team:web ${h}`));
  });
});
