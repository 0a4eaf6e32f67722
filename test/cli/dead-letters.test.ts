import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KvMirror } from '../../src/bus/kv-mirror.ts';
import { jetstreamManager } from '@nats-io/jetstream';
import { KV_BUCKETS, STREAMS, SUBJECTS } from '../../src/bus/layout.ts';
import { deadLetterEvent } from '../../src/bus/publish-event.ts';
import type { Incident } from '../../src/correlator/incident.ts';
import type { Notification } from '../../src/notify/notification.ts';
import { enqueueNotification } from '../../src/notify/outbox.ts';
import { deadNotifications, notifierBus, outboxDepth } from '../notify/bus.ts';
import { startCollector, type Collector } from '../notify/collector.ts';
import { aNotification, pause, until } from '../notify/fixtures.ts';
import { runCli } from '../support/cli.ts';
import { testConfig, testEnv } from '../support/services.ts';

/**
 * `faultline dead-letters` and `redeliver` as an operator runs them, against the real NATS and a real notifier
 * delivering to a real HTTP receiver that refuses everything until its owner fixes it.
 */
describe('faultline dead-letters', () => {
  const bus = notifierBus();
  let collector: Collector;
  let refusing = true;
  afterEach(async () => {
    await collector?.close();
  });

  const notify = (routes: unknown[] = [{ channels: ['ops-hook'] }]) => ({ channels: [{ name: 'ops-hook', type: 'webhook', url: collector.url }], routes });
  /** The CLI reads the same channels and routes from a file, as an operator's faultline.yaml. */
  function cli(routes?: unknown[]) {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-dead-'));
    const file = join(dir, 'faultline.yaml');
    writeFileSync(file, JSON.stringify({ notify: notify(routes) }));
    return (...args: string[]) => runCli(['dead-letters', ...args, '--config', file], testEnv());
  }
  const page = (incident: string, fields: Partial<Notification> = {}): Notification => {
    const base = aNotification();
    return { ...base, dedupKey: `${incident}/page/team:dba`, ...fields, incident: { ...base.incident, id: incident, ...fields.incident } };
  };
  const incident = (id: string, status: Incident['status']): Incident => ({
    id,
    status,
    root: ['db1.example.com'],
    rootAlerts: ['db1.example.com/mysql'],
    severity: 'critical',
    suppressed: [],
    suppressedCount: 0,
    affectedServices: [],
    owners: ['team:dba'],
    stakeholders: [],
    tags: {},
    openedAt: Date.now() - 60_000,
    updatedAt: Date.now(),
    timeline: [],
  });

  /** inc-…a1 still open, inc-…b2 resolved since: a page for each and the resolution of b2, all refused. */
  async function threeRefused() {
    refusing = true;
    collector = await startCollector(() => (refusing ? 410 : 200));
    const config = testConfig({ notify: notify() });
    const nc = bus.nc();
    const incidents = await KvMirror.open<Incident>(nc, KV_BUCKETS.incidents);
    await incidents.ready;
    await incidents.put('inc-00000000000000a1', incident('inc-00000000000000a1', 'open'), undefined);
    await incidents.put('inc-00000000000000b2', incident('inc-00000000000000b2', 'resolved'), undefined);
    incidents.stop();
    await bus.notifier(config);
    const notifications = [
      page('inc-00000000000000a1'),
      page('inc-00000000000000b2'),
      page('inc-00000000000000b2', { kind: 'resolved', dedupKey: 'inc-00000000000000b2/resolved/team:dba', incident: { ...aNotification().incident, id: 'inc-00000000000000b2', status: 'resolved' } }),
    ];
    for (const n of notifications) {
      await enqueueNotification(nc, config.notify, n);
      // One at a time, so the dead letters stand in this order.
      await until('its dead letter', async () => (await deadNotifications(nc)).length === notifications.indexOf(n) + 1);
    }
    return notifications;
  }

  it('lists what was refused and not delivered, newest first, and by kind', async () => {
    await threeRefused();
    await deadLetterEvent(bus.nc(), {
      reason: 'status: expected ok, warning, critical, unknown or 0-3, got "on fire"',
      via: 'POST /ingest/events',
      receivedAt: new Date().toISOString(),
      body: { host: 'db2.example.com', check: 'mysql', status: 'on fire' },
    });
    const run = cli();

    const all = await run();
    expect(all.stderr).toBe('');
    expect(all.code).toBe(0);
    const lines = all.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^SEQ\s+STORED\s+KIND\s+WHAT\s+REASON$/);
    expect(lines[1]).toMatch(/^4\s+\d+s ago\s+event\s+db2\.example\.com\/mysql via POST \/ingest\/events\s+status: expected ok/);
    expect(lines[2]).toMatch(/^3\s+.*notification\s+resolved for team:dba, inc-00000000000000b2 on ops-hook\s+channel "ops-hook" refused the notification: HTTP 410/);
    expect(lines.at(-1)).toBe('4 dead letters in the last 1d, newest first. `faultline dead-letters redeliver` puts notifications back.');

    const events = await run('list', '--events');
    expect(events.stdout).toMatch(/1 dead letter in the last 1d/);
    const newest = await run('--notifications', '--limit', '2', '--json');
    const parsed = JSON.parse(newest.stdout) as { seq: number; subject: string; record: { notification: Notification } }[];
    expect(parsed.map((l) => [l.seq, l.subject, l.record.notification.dedupKey])).toEqual([
      [3, 'faultline.dead.notifications', 'inc-00000000000000b2/resolved/team:dba'],
      [2, 'faultline.dead.notifications', 'inc-00000000000000b2/page/team:dba'],
    ]);
    await pause(1_100);
    expect((await run('--since', '1s')).stdout).toBe('No dead letters in the last 1s.\n');
    const bad = await run('--since', 'soon');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('faultline: --since: "soon" is not a duration (30m, 24h, 7d)\n');
  });

  it('reads only the newest 10,000 dead letters, and says so: a day of garbage from one sender is not read whole', async () => {
    collector = await startCollector();
    const nc = bus.nc();
    const record = (i: number) => JSON.stringify({ reason: 'status: expected ok, …', via: 'POST /ingest/events', receivedAt: new Date().toISOString(), body: { host: `h${i}.example.com`, check: 'ping', status: 'on fire' } });
    for (let i = 1; i <= 10_005; i++) nc.publish(SUBJECTS.deadEvents, record(i));
    await nc.flush();
    await until('all stored', async () => (await (await jetstreamManager(nc)).streams.info(STREAMS.dead.name)).state.messages === 10_005);
    const { stdout, code } = await cli()('--limit', '2');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^10005\s+\d+s ago\s+event\s+h10005\.example\.com\/ping via POST/);
    expect(lines.at(-1)).toBe('2 newest of 10000 dead letters in the last 1d (only the newest 10,000 of the stream were read), newest first. `faultline dead-letters redeliver` puts notifications back.');
  });

  it('redelivers once the receiver is fixed: the open page and the resolution, not the page of what is over', async () => {
    const [a1, , b2resolved] = await threeRefused();
    const run = cli();
    refusing = false;

    const dry = await run('redeliver', '--dry-run');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^1\s+page for team:dba, inc-00000000000000a1\s+would redeliver\s+ops-hook/m);
    expect(dry.stdout).toMatch(/^2\s+page for team:dba, inc-00000000000000b2\s+left: stale\s+-\s+inc-00000000000000b2 has resolved since \(--stale sends it anyway\)/m);
    expect(dry.stdout).toMatch(/^3\s+resolved for team:dba, inc-00000000000000b2\s+would redeliver\s+ops-hook/m);
    expect(dry.stdout.trim().split('\n').at(-1)).toBe('2 would be redelivered, 1 left as stale, 0 failed.');
    await pause(300);
    expect(collector.received).toHaveLength(3); // the three refusals, nothing more
    expect(await deadNotifications(bus.nc())).toHaveLength(3);

    const done = await run('redeliver');
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout.trim().split('\n').at(-1)).toBe('2 redelivered, 1 left as stale, 0 failed.');
    await until('both delivered', () => collector.received.length === 5);
    // As decided, dedup keys and all: the receiver can tell it is the notification it never got.
    expect(collector.bodies().slice(3)).toEqual([a1!, b2resolved!].map((n) => expect.objectContaining({ kind: n.kind, dedupKey: n.dedupKey, incident: expect.objectContaining({ id: n.incident.id }) })));
    // Put back, they leave the dead letters; the stale page stays for whoever wants it.
    expect((await deadNotifications(bus.nc())).map((d) => d.notification?.dedupKey)).toEqual(['inc-00000000000000b2/page/team:dba']);

    // Running it again sends nothing twice.
    const again = await run('redeliver');
    expect(again.stdout.trim().split('\n').at(-1)).toBe('0 redelivered, 1 left as stale, 0 failed.');
    const stale = await run('redeliver', '--stale', '--seq', '2');
    expect(stale.stdout.trim().split('\n').at(-1)).toBe('1 redelivered, 0 left as stale, 0 failed.');
    await until('the stale page delivered', () => collector.received.length === 6);
    await bus.settled();
    await pause(300);
    expect(collector.received).toHaveLength(6);
    expect(await deadNotifications(bus.nc())).toEqual([]);
  });

  it('a redelivery that fails again is a dead letter of its own; one no route takes fails, exit 1', async () => {
    await threeRefused();
    const run = cli();
    const redo = await run('redeliver', '--seq', '1');
    expect(redo.code).toBe(0);
    await until('refused again, and dead-lettered again', async () => (await deadNotifications(bus.nc())).some((d) => d.redelivery === 1));
    const letters = await deadNotifications(bus.nc());
    expect(letters.map((d) => [d.notification?.dedupKey, d.redelivery])).toEqual([
      ['inc-00000000000000b2/page/team:dba', undefined],
      ['inc-00000000000000b2/resolved/team:dba', undefined],
      ['inc-00000000000000a1/page/team:dba', 1],
    ]);

    // No route: the outbox dead-letters it with no channel (seq 5); redelivered under routes that still take
    // nothing, it fails.
    const onlyMail = [{ match: { team: 'team:mail' }, channels: ['ops-hook'] }];
    await enqueueNotification(bus.nc(), testConfig({ notify: notify(onlyMail) }).notify, page('inc-00000000000000a1', { dedupKey: 'inc-00000000000000a1/update/team:dba' }));
    const none = await cli(onlyMail)('redeliver', '--seq', '5');
    expect(none.code).toBe(1);
    expect(none.stdout).toMatch(/^5\s+page for team:dba, inc-00000000000000a1\s+failed\s+-\s+it had no route, and no route matches it now$/m);
    expect(none.stdout.trim().split('\n').at(-1)).toBe('0 redelivered, 0 left as stale, 1 failed.');
    // The routes fixed, it is routed again, and delivered.
    refusing = false;
    const routed = await cli()('redeliver', '--seq', '5');
    expect(routed.code).toBe(0);
    expect(routed.stdout).toMatch(/^5\s+.*inc-00000000000000a1\s+redelivered\s+ops-hook\s+it had no route: routed again$/m);
    await until('delivered', () => collector.bodies().some((b) => b.dedupKey === 'inc-00000000000000a1/update/team:dba'));
    await bus.settled();
    expect(await outboxDepth(bus.nc())).toBe(0);

    const unknown = await run('redeliver', '--channel', 'pager');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('faultline: --channel: no channel "pager" in notify.channels (ops-hook)\n');
  });
});
