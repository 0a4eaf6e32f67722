import { describe, expect, it } from 'vitest';
import { subjectToken, SUBJECTS } from '../../src/bus/layout.ts';
import { configSchema } from '../../src/config/schema.ts';
import { retryDelay } from '../../src/notify/retry.ts';
import { routeChannels, type Route } from '../../src/notify/routes.ts';
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

describe('outbox subjects', () => {
  it('keeps plain channel names and encodes anything that could split or widen a subject', () => {
    expect(SUBJECTS.outbox('ops-hook_1')).toBe('faultline.outbox.ops-hook_1');
    expect(subjectToken('dba.mail')).toBe('dba%2Email');
    expect(subjectToken('a b*>%')).toBe('a%20b%2A%3E%25');
    expect(subjectToken('é')).toBe('%C3%A9');
    // Different names never share a token.
    expect(subjectToken('a.b')).not.toBe(subjectToken('a%2Eb'));
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
