import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeSource } from '../../importers/native/index.ts';
import { runImport } from '../../importers/run.ts';
import { ensureLayout, KV_BUCKETS } from '../../src/bus/layout.ts';
import { KvMirror } from '../../src/bus/kv-mirror.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import type { MaintenanceWindow } from '../../src/correlator/maintenance.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { runCli } from '../support/cli.ts';
import { freshGraph, freshNats, silentLog, testConfig, testEnv } from '../support/services.ts';

/** `faultline maintenance` against the real Neo4j (the example estate) and the real NATS the correlator reads. */
describe('faultline maintenance start, list and cancel', () => {
  let driver: Driver;
  let nc: NatsConnection;
  let windows: KvMirror<MaintenanceWindow>;
  const cli = (...args: string[]) => runCli(['maintenance', ...args, '--log-level', 'error'], testEnv());

  beforeAll(async () => {
    driver = await freshGraph();
    await runImport(nativeSource, [join(PROJECT_ROOT, 'examples', 'estate.yaml')], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j });
    nc = await freshNats();
    await ensureLayout(nc);
    windows = await KvMirror.open<MaintenanceWindow>(nc, KV_BUCKETS.maintenance);
    await windows.ready;
  });
  afterAll(async () => {
    windows?.stop();
    await nc?.close();
    await driver?.close();
  });

  it('puts a host in maintenance now, says what goes into downtime and whom to tell, and stores the window the correlator reads', async () => {
    const before = Date.now();
    const { code, stdout, stderr } = await cli('start', 'db1.example.com', 'db2.example.com', '--for', '2h', '--reason', 'kernel upgrade', '--by', 'ops-cron');
    expect(code, stderr).toBe(0);
    const id = /^(mw-[0-9a-f]{16}): db1\.example\.com, db2\.example\.com in maintenance now until \S+ \(2h\)\.$/m.exec(stdout)?.[1];
    expect(id, stdout).toBeDefined();
    expect(stdout).toMatch(/^\d+ entities in downtime: their alerts are suppressed with reason maintenance\.$/m);
    expect(stdout).toContain('Services it takes down: service:mail.');
    expect(stdout).toContain('Nothing else is down meanwhile.');
    // db1 and db2 both down take mail down: nothing is left at risk, it is down.
    expect(stdout).not.toContain('At risk meanwhile');
    expect(stdout).toMatch(/Tell: .*team:mail-team/);

    const stored = (await windows.fetch(id!))!.value;
    expect(stored).toMatchObject({ id, entities: ['db1.example.com', 'db2.example.com'], reason: 'kernel upgrade', createdBy: 'ops-cron' });
    expect(stored.start).toBeGreaterThanOrEqual(before);
    expect(stored.end - stored.start).toBe(2 * 3_600_000);

    const listed = await cli('list', '--json');
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ id, active: true, entities: ['db1.example.com', 'db2.example.com'] })]);
    expect((await cli('list')).stdout).toMatch(new RegExp(`^${id}\\s+\\S+\\s+\\S+\\s+active\\s+ops-cron\\s+db1\\.example\\.com, db2\\.example\\.com \\(kernel upgrade\\)$`, 'm'));

    const cancelled = await cli('cancel', id!);
    expect(cancelled).toMatchObject({ code: 0, stdout: `${id} cancelled: alerts on db1.example.com, db2.example.com and what they take down page again.\n` });
    expect(await windows.fetch(id!)).toBeUndefined();
    expect((await cli('list')).stdout).toBe('No maintenance window is in force or planned.\n');
  });

  it('plans one for later with --from and --until, as JSON', async () => {
    const from = new Date(Date.now() + 86_400_000).toISOString();
    const until = new Date(Date.now() + 86_400_000 + 30 * 60_000).toISOString();
    const { code, stdout } = await cli('start', 'lb1.example.com', '--from', from, '--until', until, '--json');
    expect(code).toBe(0);
    const window = JSON.parse(stdout) as { id: string; start: string; end: string; services: string[] };
    expect(window).toMatchObject({ start: from, end: until, services: ['service:shop'] });
    expect(JSON.parse((await cli('list', '--json')).stdout)).toContainEqual(expect.objectContaining({ id: window.id, active: false }));
    await cli('cancel', window.id);
  });

  it('plans without storing, and warns when another window makes the two take a service down together', async () => {
    const db1 = await cli('start', 'db1.example.com', '--for', '2h', '--by', 'alice');
    const id = /^(mw-[0-9a-f]{16}):/m.exec(db1.stdout)![1]!;
    try {
      const count = [...windows.values()].length;
      const { code, stdout } = await cli('plan', 'db2.example.com', '--for', '1h');
      expect(code).toBe(0);
      expect(stdout).toMatch(/^Planned: db2\.example\.com in maintenance now until \S+ \(1h\); nothing is created\.$/m);
      expect(stdout).toContain('Services it takes down: none. Tell: team:dba.');
      expect(stdout).toMatch(new RegExp(`^Also down meanwhile: ${id} \\(db1\\.example\\.com, alice, until \\S+\\)\\.$`, 'm'));
      expect(stdout).toMatch(/^WARNING: with those, service:mail goes down too \(\d+ entities down only because both are\)\. Tell: team:mail-team\.$/m);
      expect([...windows.values()].length).toBe(count);
      // Alone, db2's hour leaves mail on db1's greylisting database only.
      const alone = await cli('plan', 'db2.example.com', '--from', new Date(Date.now() + 3 * 3_600_000).toISOString(), '--for', '1h');
      expect(alone.stdout).toContain('Nothing else is down meanwhile.');
      expect(alone.stdout).toContain('At risk meanwhile: service:mail (no spare left in group:capability:mysql-greylist; held up by db1.example.com::Service[mysqld]): one more failure takes it down.');

      // Once db1's window is over, the same work meets nothing.
      const after = new Date(Date.now() + 3 * 3_600_000).toISOString();
      const later = JSON.parse((await cli('plan', 'db2.example.com', '--from', after, '--for', '1h', '--json')).stdout) as { concurrent: { windows: unknown[]; services: string[] } };
      expect(later.concurrent).toMatchObject({ windows: [], services: [] });

      // start says the same, and stores the window.
      const started = await cli('start', 'db2.example.com', '--for', '1h', '--json');
      const stored = JSON.parse(started.stdout) as { id: string; concurrent: { windows: { id: string }[]; services: string[]; stakeholders: string[] } };
      expect(stored.concurrent).toMatchObject({ windows: [{ id }], services: ['service:mail'], stakeholders: ['team:mail-team'] });
      expect((await windows.fetch(stored.id))?.value.entities).toEqual(['db2.example.com']);
      await cli('cancel', stored.id);
    } finally {
      await cli('cancel', id);
    }
  });

  it('refuses, naming the problem and storing nothing: an unknown entity, no length, a bad duration, a window over a month, an unknown id to cancel', async () => {
    const count = () => [...windows.values()].length;
    const before = count();
    expect(await cli('start', 'nosuch.example.com', '--for', '1h')).toMatchObject({ code: 2, stderr: 'faultline: unknown entity: nosuch.example.com\n' });
    expect(await cli('start', 'db1.example.com')).toMatchObject({ code: 2, stderr: 'faultline: say how long: --for 2h, or --until 2026-12-08T06:00:00Z (one of them)\n' });
    expect(await cli('start', 'db1.example.com', '--for', 'soon')).toMatchObject({ code: 2, stderr: 'faultline: --for: "soon" is not a duration; give one like 30m, 2h or 1h30m\n' });
    expect(await cli('start', 'db1.example.com', '--for', '40d')).toMatchObject({ code: 2, stderr: 'faultline: a window lasts at most 31 days\n' });
    expect(await cli('start', 'db1.example.com', '--from', 'tuesday', '--for', '1h')).toMatchObject({ code: 2, stderr: expect.stringContaining('--from: "tuesday" is not a time') });
    expect(await cli('cancel', 'mw-0000000000000000')).toMatchObject({ code: 2, stderr: 'faultline: no maintenance window mw-0000000000000000 (faultline maintenance list shows them)\n' });
    expect(count()).toBe(before);
  });
});
