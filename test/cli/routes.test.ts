import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { notifierBus } from '../notify/bus.ts';
import { startCollector, type Collector } from '../notify/collector.ts';
import { until } from '../notify/fixtures.ts';
import { runCli } from '../support/cli.ts';
import { testConfig, testEnv } from '../support/services.ts';

/**
 * `faultline routes` on an operator's routes: dba's pages to its pager, stakeholder notices to the ops hook, the
 * rest to the ops hook by night only, nothing by day. `--send` goes through the real outbox and a real notifier.
 */
describe('faultline routes', () => {
  const bus = notifierBus();
  let pager: Collector;
  let hook: Collector;
  afterEach(async () => {
    await pager?.close();
    await hook?.close();
  });

  async function setUp() {
    pager = await startCollector();
    hook = await startCollector();
    const notify = {
      timezone: 'UTC',
      channels: [
        { name: 'dba-pager', type: 'webhook', url: pager.url },
        { name: 'ops-hook', type: 'webhook', url: hook.url },
      ],
      routes: [
        { match: { team: 'team:dba', kind: 'page' }, channels: ['dba-pager'] },
        { match: { kind: 'stakeholder' }, channels: ['ops-hook'] },
        { match: { time: { from: '18:00', to: '08:00' } }, channels: ['ops-hook'] },
      ],
    };
    const file = join(mkdtempSync(join(tmpdir(), 'faultline-routes-')), 'faultline.yaml');
    writeFileSync(file, JSON.stringify({ notify }));
    return { config: testConfig({ notify }), cli: (...args: string[]) => runCli(['routes', ...args, '--config', file], testEnv()) };
  }

  it("says which route takes each kind of a team's notifications, and exits 1 when one has none", async () => {
    const { cli } = await setUp();
    const day = await cli('--team', 'team:dba', '--at', '2026-12-08T12:00:00Z');
    expect(day.stderr).toBe('');
    expect(day.code).toBe(1);
    const lines = day.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('For team:dba, critical, on tue at 12:00 (UTC):');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^KIND\s+ROUTE\s+CHANNELS$/),
      expect.stringMatching(/^page\s+#1\s+dba-pager$/),
      expect.stringMatching(/^stakeholder\s+#2\s+ops-hook$/),
      expect.stringMatching(/^update\s+-\s+no route: dead-lettered$/),
      expect.stringMatching(/^resolved\s+-\s+no route: dead-lettered$/),
    ]);
    const night = await cli('--team', 'team:dba', '--at', '2026-12-08T20:00:00Z');
    expect(night.code).toBe(0);
    expect(night.stdout).toMatch(/^update\s+#3\s+ops-hook$/m);
    // Another team's page is not dba's: by day nothing takes it.
    const web = await cli('--team', 'team:web', '--kind', 'page', '--at', '2026-12-08T12:00:00Z');
    expect(web.code).toBe(1);
    expect(web.stdout).toMatch(/^page\s+-\s+no route: dead-lettered$/m);
    expect(await cli('--severity', 'dire')).toMatchObject({ code: 2, stderr: 'faultline: --severity: "dire" is not one of ok, warning, critical, unknown\n' });
    expect(await cli('--send')).toMatchObject({ code: 2, stderr: 'faultline: --send needs one --kind (a test page wakes whoever is on call: say so)\n' });
  });

  it('--send puts one test notification through the outbox to the channel the route names', async () => {
    const { cli, config } = await setUp();
    await bus.notifier(config);
    const sent = await cli('--team', 'team:dba', '--kind', 'page', '--send');
    expect(sent.stderr).toBe('');
    expect(sent.code).toBe(0);
    expect(sent.stdout).toMatch(/^Test page inc-test-[0-9a-f]{12} enqueued for dba-pager: a running notifier delivers it/m);
    await until('the test page', () => pager.received.length === 1);
    const [body] = pager.bodies();
    expect(body).toMatchObject({ kind: 'page', team: 'team:dba', summary: expect.stringMatching(/^TEST from faultline routes: nothing is wrong/) });
    await bus.settled();
    expect(hook.received).toHaveLength(0);
  });
});
