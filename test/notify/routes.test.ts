import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nameOfToken, subjectToken, SUBJECTS } from '../../src/bus/layout.ts';
import { ConfigError, loadConfig } from '../../src/config/load.ts';
import { configSchema } from '../../src/config/schema.ts';
import { retryDelay } from '../../src/notify/retry.ts';
import { localTime, matchingRoute, routeChannels, type Route, type RoutingTime } from '../../src/notify/routes.ts';
import { aNotification } from './fixtures.ts';

describe('routing a notification to channels', () => {
  const routes: Route[] = [
    { match: { team: 'team:dba', severity: 'critical' }, channels: ['dba-pager'] },
    { match: { team: 'team:dba' }, channels: ['dba-mail'] },
    { match: { tags: { dc: 'dc2', env: 'prod' } }, channels: ['dc2-hook', 'ops-hook'] },
    { channels: ['ops-hook'] },
  ];

  it('takes the first route that matches, not the most specific or all of them', () => {
    expect(routeChannels(routes, aNotification({ team: 'team:dba', severity: 'critical' }))).toEqual(['dba-pager']);
    expect(routeChannels([routes[1]!, routes[0]!], aNotification({ team: 'team:dba', severity: 'critical' }))).toEqual(['dba-mail']);
  });

  it('needs team and severity both to match when a route names both', () => {
    expect(routeChannels(routes, aNotification({ team: 'team:dba', severity: 'warning' }))).toEqual(['dba-mail']);
    expect(routeChannels(routes, aNotification({ team: 'team:mail', severity: 'critical' }))).toEqual(['ops-hook']);
  });

  it('needs every tag a route names, with the same value', () => {
    expect(routeChannels(routes, aNotification({ team: 'team:web', tags: { dc: 'dc2', env: 'prod', rack: 'r1' } }))).toEqual(['dc2-hook', 'ops-hook']);
    expect(routeChannels(routes, aNotification({ team: 'team:web', tags: { dc: 'dc2' } }))).toEqual(['ops-hook']);
    expect(routeChannels(routes, aNotification({ team: 'team:web', tags: { dc: 'dc2', env: 'test' } }))).toEqual(['ops-hook']);
  });

  it('sends a notification for nobody\'s root (team null) past team routes to the catch-all', () => {
    expect(routeChannels(routes, aNotification({ team: null }))).toEqual(['ops-hook']);
  });

  it('matches nothing when no route takes it and there is no catch-all', () => {
    expect(routeChannels(routes.slice(0, 3), aNotification({ team: 'team:web', tags: {} }))).toEqual([]);
    expect(routeChannels([], aNotification())).toEqual([]);
  });

  it('routes the design example configuration (section 9) as it reads', () => {
    const { notify } = configSchema.parse({
      notify: {
        channels: [
          { name: 'ops-hook', type: 'webhook', url: 'http://127.0.0.1:9000/hook' },
          { name: 'dba-mail', type: 'email', to: 'dba@example.com' },
        ],
        routes: [{ match: { team: 'team:dba', severity: 'critical' }, channels: ['dba-mail'] }, { channels: ['ops-hook'] }],
      },
    });
    expect(routeChannels(notify.routes, aNotification())).toEqual(['dba-mail']);
    expect(routeChannels(notify.routes, aNotification({ kind: 'stakeholder', team: 'team:mail' }))).toEqual(['ops-hook']);
  });
});

describe('routing by kind', () => {
  const { notify } = configSchema.parse({
    notify: {
      channels: [
        { name: 'pager', type: 'pagerduty', routingKey: 'k' },
        { name: 'mail', type: 'email', to: 'ops@example.com' },
      ],
      routes: [
        { match: { kind: 'stakeholder' }, channels: ['mail'] },
        { match: { kind: ['page', 'update'], team: 'team:dba' }, channels: ['pager'] },
        { channels: ['mail'] },
      ],
    },
  });

  it('takes a single kind or a list of them', () => {
    expect(routeChannels(notify.routes, aNotification({ kind: 'stakeholder' }))).toEqual(['mail']);
    expect(routeChannels(notify.routes, aNotification({ kind: 'page' }))).toEqual(['pager']);
    expect(routeChannels(notify.routes, aNotification({ kind: 'update' }))).toEqual(['pager']);
    expect(routeChannels(notify.routes, aNotification({ kind: 'resolved' }))).toEqual(['mail']);
    expect(notify.routes[0]!.match!.kind).toEqual(['stakeholder']);
  });
});

describe('routing by what an update tells', () => {
  const { notify } = configSchema.parse({
    notify: {
      channels: [
        { name: 'chat', type: 'webhook', url: 'http://127.0.0.1:9/chat' },
        { name: 'lead-mail', type: 'email', to: 'dba-lead@example.com' },
      ],
      // Reminders of an incident nobody acknowledged go to the team lead as well: an escalation without PagerDuty.
      routes: [{ match: { change: 'reminder' }, channels: ['chat', 'lead-mail'] }, { channels: ['chat'] }],
    },
  });

  it('takes a change or a list of them, and never matches a notification that tells none', () => {
    expect(routeChannels(notify.routes, aNotification({ kind: 'update', change: 'reminder' }))).toEqual(['chat', 'lead-mail']);
    expect(routeChannels(notify.routes, aNotification({ kind: 'update', change: 'acknowledged' }))).toEqual(['chat']);
    expect(routeChannels(notify.routes, aNotification({ kind: 'page' }))).toEqual(['chat']);
    expect(notify.routes[0]!.match!.change).toEqual(['reminder']);
    const bad = configSchema.safeParse({ notify: { channels: [{ name: 'chat', type: 'console' }], routes: [{ match: { change: 'nagged' }, channels: ['chat'] }] } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.message).toBe('expected a change (acknowledged, folded, reminder, storm, note) or a list of them, got "nagged"');
  });
});

describe('routing by time of day in the configured time zone (an injected clock)', () => {
  // Mauve-style: the DBAs are paged in office hours on weekdays and mailed otherwise; a weekend night shift
  // (Friday 22:00 to Saturday 06:00) pages the on-call webhook.
  const { notify } = configSchema.parse({
    notify: {
      timezone: 'Europe/Berlin',
      channels: [
        { name: 'dba-pager', type: 'pagerduty', routingKey: 'k' },
        { name: 'dba-mail', type: 'email', to: 'dba@example.com' },
        { name: 'night-shift', type: 'webhook', url: 'http://127.0.0.1:9/hook' },
      ],
      routes: [
        { match: { team: 'team:dba', time: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' } }, channels: ['dba-pager'] },
        { match: { team: 'team:dba', time: { days: ['fri'], from: '22:00', to: '06:00' } }, channels: ['night-shift'] },
        { match: { team: 'team:dba' }, channels: ['dba-mail'] },
      ],
    },
  });
  const at = (iso: string): RoutingTime => ({ now: Date.parse(iso), timeZone: notify.timezone });
  const route = (iso: string) => routeChannels(notify.routes, aNotification(), at(iso));

  it('reads the clock in the zone, daylight saving time included', () => {
    expect(localTime(Date.parse('2026-11-23T09:00:00Z'), 'Europe/Berlin')).toEqual({ day: 'mon', minutes: 600 });
    expect(localTime(Date.parse('2026-07-06T08:00:00Z'), 'Europe/Berlin')).toEqual({ day: 'mon', minutes: 600 });
    expect(localTime(Date.parse('2026-11-23T09:00:00Z'), 'UTC')).toEqual({ day: 'mon', minutes: 540 });
  });

  it('pages on a weekday at 10:00 Berlin time, winter and summer, and mails at 23:00', () => {
    expect(route('2026-11-23T09:00:00Z')).toEqual(['dba-pager']); // Monday 10:00 CET
    expect(route('2026-07-06T08:00:00Z')).toEqual(['dba-pager']); // Monday 10:00 CEST
    expect(route('2026-11-23T22:00:00Z')).toEqual(['dba-mail']); // Monday 23:00 CET
  });

  it('includes from and excludes to', () => {
    expect(route('2026-11-23T07:00:00Z')).toEqual(['dba-pager']); // 08:00
    expect(route('2026-11-23T06:59:00Z')).toEqual(['dba-mail']); // 07:59
    expect(route('2026-11-23T16:59:00Z')).toEqual(['dba-pager']); // 17:59
    expect(route('2026-11-23T17:00:00Z')).toEqual(['dba-mail']); // 18:00
  });

  it('does not page on a Saturday at 10:00', () => {
    expect(route('2026-11-28T09:00:00Z')).toEqual(['dba-mail']);
  });

  it('wraps a window past midnight, the hours after it belonging to the day the window starts on', () => {
    expect(route('2026-11-27T22:00:00Z')).toEqual(['night-shift']); // Friday 23:00
    expect(route('2026-11-28T01:00:00Z')).toEqual(['night-shift']); // Saturday 02:00
    expect(route('2026-11-28T04:59:00Z')).toEqual(['night-shift']); // Saturday 05:59
    expect(route('2026-11-28T05:00:00Z')).toEqual(['dba-mail']); // Saturday 06:00
    expect(route('2026-11-27T01:00:00Z')).toEqual(['dba-mail']); // Friday 02:00: Thursday has no night shift
    expect(route('2026-11-28T22:00:00Z')).toEqual(['dba-mail']); // Saturday 23:00
  });

  it('matches whole days, and hours on every day, and 24:00 as the end of the day', () => {
    const routes = configSchema.parse({
      notify: {
        channels: [{ name: 'a', type: 'webhook', url: 'http://127.0.0.1:9/' }],
        routes: [
          { match: { time: { days: ['sat', 'sun'] } }, channels: ['a'] },
          { match: { time: { from: '20:00', to: '24:00' } }, channels: ['a', 'a'] },
        ],
      },
    }).notify.routes;
    const utc = (iso: string) => matchingRoute(routes, aNotification(), { now: Date.parse(iso), timeZone: 'UTC' });
    expect(utc('2026-11-29T03:00:00Z')).toBe(routes[0]); // Sunday
    expect(utc('2026-11-24T23:59:00Z')).toBe(routes[1]); // Tuesday 23:59
    expect(utc('2026-11-25T00:00:00Z')).toBeUndefined(); // Wednesday 00:00
  });
});

describe('notify configuration', () => {
  function problems(yaml: string): string[] {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-notify-'));
    const file = join(dir, 'faultline.yaml');
    writeFileSync(file, yaml);
    try {
      loadConfig({ file, env: {} });
    } catch (err) {
      if (err instanceof ConfigError) return err.problems.map((p) => p.slice(file.length + 2));
      throw err;
    }
    return [];
  }

  it('reads channels with their defaults, the time zone and the incident link', () => {
    const { notify } = configSchema.parse({
      notify: {
        timezone: 'Europe/Berlin',
        incidentUrl: 'https://faultline.example.com/incidents/{id}',
        channels: [
          { name: 'mail', type: 'email' },
          { name: 'pd', type: 'pagerduty' },
          { name: 'chat', type: 'slack', url: 'https://hooks.slack.com/services/T/B/x', channel: '#ops' },
        ],
        routes: [{ match: { kind: 'page' }, channels: ['pd'], useContacts: true }],
      },
    });
    expect(notify.channels).toEqual([
      { name: 'mail', type: 'email', smtp: 'smtp://127.0.0.1:25' },
      { name: 'pd', type: 'pagerduty', url: 'https://events.pagerduty.com/v2/enqueue' },
      { name: 'chat', type: 'slack', url: 'https://hooks.slack.com/services/T/B/x', channel: '#ops' },
    ]);
    expect(notify.routes[0]).toEqual({ match: { kind: ['page'] }, channels: ['pd'], useContacts: true });
    expect(configSchema.parse({}).notify.timezone).toBe('UTC');
  });

  it('names each bad time window, kind, time zone and link on its own line', () => {
    expect(
      problems(`
notify:
  timezone: Mars/Olympus
  incidentUrl: https://faultline.example.com/incidents
  channels: [{ name: a, type: webhook, url: "http://127.0.0.1:1/" }]
  routes:
    - { match: { kind: pages }, channels: [a] }
    - { match: { time: { days: [mon, fri], from: "8am", to: "18:00" } }, channels: [a] }
    - { match: { time: { days: [monday] } }, channels: [a] }
    - { match: { time: { from: "08:00" } }, channels: [a] }
    - { match: { time: { from: "08:00", to: "08:00" } }, channels: [a] }
    - { match: { time: {} }, channels: [a] }
`),
    ).toEqual([
      'notify.routes[0].match.kind: expected a kind (page, stakeholder, update, resolved) or a list of them, got "pages"',
      'notify.routes[1].match.time.from: expected HH:MM (00:00 to 23:59), got "8am"',
      'notify.routes[2].match.time.days[0]: expected a day (mon, tue, wed, thu, fri, sat, sun), got "monday"',
      'notify.routes[3].match.time.to: a window needs both from and to (or neither, for whole days)',
      'notify.routes[4].match.time.to: from and to are both 08:00: leave both out for whole days',
      'notify.routes[5].match.time: a time window needs days, or from and to',
      'notify.timezone: expected an IANA time zone such as Europe/Berlin or UTC, got "Mars/Olympus"',
      'notify.incidentUrl: expected a URL template with {id}, such as https://faultline.example.com/incidents/{id}',
    ]);
  });

  it('refuses an SMTP URL that is not one', () => {
    expect(problems('notify:\n  channels: [{ name: m, type: email, smtp: "mail.example.com:25" }]\n')).toEqual([
      'notify.channels[0].smtp: expected an SMTP URL (smtp://, smtps://), got "mail.example.com:25"',
    ]);
  });
});

describe('outbox subjects', () => {
  it('keeps plain channel names and encodes anything that could split or widen a subject', () => {
    expect(SUBJECTS.outbox('ops-hook_1')).toBe('faultline.outbox.ops-hook_1');
    expect(subjectToken('dba.mail')).toBe('dba%2Email');
    expect(subjectToken('a b*>%')).toBe('a%20b%2A%3E%25');
    expect(subjectToken('é')).toBe('%C3%A9');
    // Different names never share a token.
    expect(subjectToken('a.b')).not.toBe(subjectToken('a%2Eb'));
    // And each token reads back as its name (the metrics label outbox subjects with the channel's name).
    for (const name of ['ops-hook_1', 'dba.mail', 'a b*>%', 'é', 'a%2Eb', 'night shift']) expect(nameOfToken(subjectToken(name))).toBe(name);
  });
});

describe('retry back-off', () => {
  it('doubles from the base and stops at the cap', () => {
    expect([1, 2, 3, 4].map((n) => retryDelay(n, 1_000, 300_000))).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(retryDelay(9, 1_000, 300_000)).toBe(256_000);
    expect(retryDelay(10, 1_000, 300_000)).toBe(300_000);
    expect(retryDelay(5_000, 1_000, 300_000)).toBe(300_000);
  });
});
