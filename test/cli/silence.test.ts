import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLayout, KV_BUCKETS } from '../../src/bus/layout.ts';
import { KvMirror } from '../../src/bus/kv-mirror.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { alertKey, type AlertRecord } from '../../src/correlator/alert.ts';
import type { Incident } from '../../src/correlator/incident.ts';
import type { Silence } from '../../src/correlator/silence.ts';
import { parseMatcher } from '../../src/cli/commands/silence.ts';
import { runCli } from '../support/cli.ts';
import { freshNats, testEnv } from '../support/services.ts';

/** `faultline silence` against the real NATS the correlator reads (faultline-silences, faultline-alerts). */
describe('faultline silence add, list and expire', () => {
  let nc: NatsConnection;
  let silences: KvMirror<Silence>;
  const cli = (...args: string[]) => runCli(['silence', ...args, '--log-level', 'error'], testEnv());

  beforeAll(async () => {
    nc = await freshNats();
    await ensureLayout(nc);
    silences = await KvMirror.open<Silence>(nc, KV_BUCKETS.silences);
    await silences.ready;
    const alerts = await KvMirror.open<AlertRecord>(nc, KV_BUCKETS.alerts);
    await alerts.ready;
    const now = Date.now();
    for (const [host, check, status] of [['web3.example.com', 'disk-root', 'critical'], ['web3.example.com', 'disk-var', 'ok'], ['web3.example.com', 'http', 'critical'], ['db1.example.com', 'disk-root', 'critical']] as const) {
      const id = `${host}/${check}`;
      await alerts.put(alertKey(id), { id, host, check, status, since: now, time: now, seq: 1, source: 'test', tags: {} }, undefined);
    }
    alerts.stop();
  });
  afterAll(async () => {
    silences?.stop();
    await nc?.close();
  });

  it('reads HOST[/CHECK] matchers', () => {
    expect(parseMatcher('web*')).toEqual({ host: 'web*', check: '*' });
    expect(parseMatcher('web3.example.com/disk-*')).toEqual({ host: 'web3.example.com', check: 'disk-*' });
    expect(parseMatcher('*/ntp')).toEqual({ host: '*', check: 'ntp' });
    expect(parseMatcher('/ntp')).toEqual({ host: '*', check: 'ntp' });
  });

  it('silences now, says what it matches, lists it and expires it, keeping who did', async () => {
    const added = await cli('add', 'web3*/disk-*', '--for', '4h', '-m', 'disk replaced tomorrow, ticket 77', '--by', 'alice');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const id = /^(sil-[0-9a-f]{16}): web3\*\/disk-\* silenced now until \S+ \(4h\): disk replaced tomorrow, ticket 77$/m.exec(added.stdout)?.[1];
    expect(id, added.stdout).toBeDefined();
    expect(added.stdout).toContain('It matches 2 alerts now, 1 failing: web3.example.com/disk-root (critical).');
    expect(added.stdout).toContain(`faultline silence expire ${id}`);
    const stored = await until(() => silences.get(id!)?.value);
    expect(stored).toMatchObject({ host: 'web3*', check: 'disk-*', tags: {}, comment: 'disk replaced tomorrow, ticket 77', createdBy: 'alice' });
    expect(stored.end - stored.start).toBe(4 * 3_600_000);

    const listed = await cli('list');
    expect(listed.code).toBe(0);
    // FAILING: of the two alerts it matches, one fails now.
    expect(listed.stdout).toMatch(/^ID\s+MATCHES\s+START\s+END\s+STATE\s+FAILING\s+BY\s+COMMENT$/m);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+web3\\*/disk-\\*\\s+\\S+\\s+\\S+\\s+active\\s+1\\s+alice\\s+disk replaced tomorrow, ticket 77$`, 'm'));
    expect(JSON.parse((await cli('list', '--json')).stdout)).toContainEqual(expect.objectContaining({ id, active: true, failing: ['web3.example.com/disk-root'] }));

    const ended = await cli('expire', id!, '--by', 'bob');
    expect(ended.code).toBe(0);
    expect(ended.stdout).toContain(`${id} expired`);
    await until(() => silences.get(id!)?.value.expiredBy === 'bob' || undefined);
    expect((await cli('list')).stdout).not.toContain(id);
    expect((await cli('list', '--all')).stdout).toMatch(new RegExp(`^${id}\\s.*expired by bob`, 'm'));
    const again = await cli('expire', id!);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('ended already');
  });

  it('plans one with tags for later, as JSON', async () => {
    const from = new Date(Date.now() + 3_600_000).toISOString();
    const until = new Date(Date.now() + 7_200_000).toISOString();
    const { code, stdout } = await cli('add', '*/ntp', '--from', from, '--until', until, '--tag', 'dc=dc1', '-m', 'ntp servers move', '--json');
    expect(code).toBe(0);
    const json = JSON.parse(stdout);
    expect(json).toMatchObject({ host: '*', check: 'ntp', tags: { dc: 'dc1' }, start: from, end: until, matching: [] });
    expect((await cli('list')).stdout).toMatch(new RegExp(`^${json.id}\\s.*planned`, 'm'));
  });

  it('silences an incident\'s root alerts by id with --incident', async () => {
    const incidents = await KvMirror.open<Incident>(nc, KV_BUCKETS.incidents);
    await incidents.ready;
    const now = Date.now();
    const incident = { id: 'inc-00000000000000c1', status: 'open', root: ['web3.example.com'], rootAlerts: ['web3.example.com/disk-root', 'web3.example.com/http'], severity: 'critical', suppressed: [], affectedServices: [], owners: ['team:web'], stakeholders: [], tags: {}, openedAt: now, updatedAt: now, timeline: [] } satisfies Incident;
    await incidents.put(incident.id, incident, undefined);
    await incidents.put('inc-00000000000000c2', { ...incident, id: 'inc-00000000000000c2', status: 'resolved' }, undefined);
    incidents.stop();
    const added = await cli('add', '--incident', incident.id, '--for', '2h', '-m', 'web3 flaps, ticket 7', '--by', 'alice');
    expect(added.stderr).toBe('');
    expect(added.stdout).toMatch(new RegExp(`^sil-[0-9a-f]{16}: web3.example.com/disk-root, web3.example.com/http \\(the root of ${incident.id}\\) silenced now until`, 'm'));
    expect(added.stdout).toContain('It matches 2 alerts now, 2 failing');
    const id = /^(sil-[0-9a-f]{16})/m.exec(added.stdout)![1]!;
    expect(await until(() => silences.get(id)?.value)).toMatchObject({ host: '*', check: '*', alertIds: incident.rootAlerts, incident: incident.id, createdBy: 'alice' });
    const cases: [string[], RegExp][] = [
      [['add', '--incident', 'inc-00000000000000c9', '--for', '1h', '-m', 'why'], /no incident inc-00000000000000c9/],
      [['add', '--incident', 'inc-00000000000000c2', '--for', '1h', '-m', 'why'], /is resolved/],
      [['add', 'web*', '--incident', incident.id, '--for', '1h', '-m', 'why'], /HOST\[\/CHECK\] or --incident <id>, one of them/],
      [['add', '--for', '1h', '-m', 'why'], /HOST\[\/CHECK\] or --incident <id>, one of them/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await cli(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(message);
    }
  });

  it('refuses, naming the problem and storing nothing', async () => {
    const before = silences.size;
    const cases: [string[], RegExp][] = [
      [['add', '*', '--for', '1h', '-m', 'all of it'], /must name a host or a check/],
      [['add', '*/*', '--for', '1h', '-m', 'all of it'], /must name a host or a check/],
      [['add', 'web*', '-m', 'forever'], /say how long/],
      [['add', 'web*', '--for', 'soon', '-m', 'why'], /--for: "soon" is not a duration/],
      [['add', 'web*', '--for', '40d', '-m', 'why'], /at most 31 days/],
      [['add', 'web*', '--for', '1h', '-m', ' '], /comment is required/],
      [['add', 'web*', '--for', '1h', '--tag', 'dc', '-m', 'why'], /--tag: expected key=value, got "dc"/],
      [['expire', 'sil-0000000000000000'], /no silence sil-0000000000000000/],
    ];
    for (const [args, message] of cases) {
      const { code, stderr } = await cli(...args);
      expect(code, args.join(' ')).toBe(2);
      expect(stderr, args.join(' ')).toMatch(message);
    }
    const missing = await cli('add', 'web*', '--for', '1h');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('--comment');
    expect(silences.size).toBe(before);
  });
});

async function until<T>(probe: () => T | undefined): Promise<T> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}
