import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STREAMS } from '../../src/bus/layout.ts';
import { Correlator } from '../../src/correlator/correlator.ts';
import { silentLog } from '../support/services.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { postJson, startIngestApi, WRITER } from './api.ts';
import { closedPort, storedMessages, type Stored } from './stored.ts';

/**
 * The acceptance test of issue 6: Debian's prometheus-alertmanager, started here with a webhook receiver pointing
 * at a real faultline API on loopback (bearer credentials in its http_config), is handed alerts through its API v2;
 * what its webhook notifier sends must land on FAULTLINE_EVENTS as events, and a resolved alert as ok.
 */

const INSTALL_HINT = 'install Debian\'s prometheus-alertmanager (apt-get install prometheus-alertmanager; .ci/run does)';

/** The binary, from PATH or where Debian puts it; a missing one fails the suite with the way to get it. */
function alertmanagerBinary(): string {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    for (const name of ['prometheus-alertmanager', 'alertmanager']) {
      try {
        accessSync(join(dir, name), constants.X_OK);
        return join(dir, name);
      } catch {
        // not here
      }
    }
  }
  throw new Error(`prometheus-alertmanager is not installed: ${INSTALL_HINT}`);
}

function amtoolBinary(): string {
  const found = spawnSync('sh', ['-c', 'command -v amtool || ls /usr/bin/amtool'], { encoding: 'utf8' });
  const path = found.stdout.trim().split('\n')[0];
  if (found.status !== 0 || !path) throw new Error(`amtool is not installed: ${INSTALL_HINT}`);
  return path;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, log: () => string = () => ''): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('a real Alertmanager sending its webhook to faultline', () => {
  let api: Awaited<ReturnType<typeof startIngestApi>>;
  let alertmanager: ChildProcess | undefined;
  let amUrl: string;
  let amLog = '';
  /** A real correlator on the same bus: the events become alerts. */
  let correlator: Correlator;
  const alert = (id: string) => correlator.view.records().get(id);
  const events = () => storedMessages(api.nc, STREAMS.events.name);
  const dead = () => storedMessages(api.nc, STREAMS.dead.name);

  beforeAll(async () => {
    const binary = alertmanagerBinary();
    api = await startIngestApi({ ingest: { alertmanager: { severities: { p1: 'critical' } } } });
    correlator = await Correlator.start({ config: api.services.config, log: silentLog, nats: api.nc, topology: api.services.topology });
    const port = await closedPort();
    amUrl = `http://127.0.0.1:${port}`;
    const dir = mkdtempSync(join(tmpdir(), 'faultline-alertmanager-'));
    const config = join(dir, 'alertmanager.yml');
    // group_wait small so that a new alert is sent at once; group_interval small so that its resolution follows
    // quickly; repeat_interval long so that nothing is sent twice while the test runs.
    writeFileSync(
      config,
      `route:
  receiver: faultline
  group_by: [alertname]
  group_wait: 200ms
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: faultline
    webhook_configs:
      - url: ${api.server.url}/ingest/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: ${WRITER}
`,
    );
    alertmanager = spawn(
      binary,
      [`--config.file=${config}`, `--storage.path=${join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--cluster.listen-address=', '--log.level=debug'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    alertmanager.stdout!.on('data', (d: Buffer) => (amLog += d.toString()));
    alertmanager.stderr!.on('data', (d: Buffer) => (amLog += d.toString()));
    const exited = new Promise<never>((_, reject) => alertmanager!.once('exit', (code) => reject(new Error(`Alertmanager exited with ${code}:\n${amLog}`))));
    await Promise.race([
      exited,
      until('Alertmanager was not ready', async () => ((await fetch(`${amUrl}/-/ready`)).ok ? true : undefined), 30_000, () => amLog),
    ]);
    exited.catch(() => undefined);
  });

  afterAll(async () => {
    await correlator?.stop();
    if (alertmanager && alertmanager.exitCode === null) {
      const gone = new Promise((resolve) => alertmanager!.once('exit', resolve));
      alertmanager.kill('SIGTERM');
      await gone;
    }
    await api?.close();
  });

  async function pushAlerts(alerts: unknown[]): Promise<void> {
    const res = await fetch(`${amUrl}/api/v2/alerts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(alerts) });
    expect(res.status, await res.text()).toBe(200);
  }

  const startsAt = new Date(Date.now() - 60_000).toISOString();
  const mysql = {
    labels: { alertname: 'MySQLDown', instance: 'db1.example.com:9104', job: 'mysqld', severity: 'critical', dc: 'dc1' },
    annotations: { summary: 'MySQL is down on db1', description: 'mysql_up == 0 for 1m' },
    startsAt,
  };
  const disk = { labels: { alertname: 'DiskAlmostFull', host: 'web1.example.com', instance: '10.0.0.7:9100', severity: 'warning' }, annotations: { description: '91% used' }, startsAt };
  const exporter = { labels: { alertname: 'ExporterDown', instance: '[2001:db8::7]:9100', severity: 'P1' }, startsAt };
  const watchdog = { labels: { alertname: 'Watchdog', severity: 'none' }, startsAt };

  it('turns each firing alert into an event with the mapped host, check, status and tags', async () => {
    await pushAlerts([mysql, disk, exporter, watchdog]);
    const stored = await until('the three alerts with a host were not stored', async () => {
      const found = await events();
      return found.length >= 3 ? found : undefined;
    }, 20_000, () => amLog);
    expect(stored).toHaveLength(3);
    const byCheck = new Map(stored.map((m: Stored) => [m.body.check, m]));
    expect(new Set(byCheck.keys())).toEqual(new Set(['MySQLDown', 'DiskAlmostFull', 'ExporterDown']));

    const db1 = byCheck.get('MySQLDown')!;
    expect(db1.subject).toBe('faultline.events.alertmanager');
    expect(db1.body).toMatchObject({
      source: 'alertmanager',
      host: 'db1.example.com',
      check: 'MySQLDown',
      status: 'critical',
      text: 'MySQL is down on db1',
      tags: { alertname: 'MySQLDown', instance: 'db1.example.com:9104', job: 'mysqld', severity: 'critical', dc: 'dc1', alertmanager_receiver: 'faultline' },
    });
    expect(Date.parse(db1.body.time)).toBe(Date.parse(startsAt));
    expect(db1.msgId).toMatch(/^[0-9a-f]{16}:firing:/);
    expect(db1.body.id).toBe(db1.msgId);

    expect(byCheck.get('DiskAlmostFull')!.body).toMatchObject({ host: 'web1.example.com', status: 'warning', text: '91% used' });
    // the configured severity word, and the port stripped from an IPv6 instance
    expect(byCheck.get('ExporterDown')!.body).toMatchObject({ host: '2001:db8::7', status: 'critical' });
    await until('the alerts in the correlator', async () => (alert('db1.example.com/MySQLDown') && alert('web1.example.com/DiskAlmostFull') ? true : undefined), 10_000);
    expect(alert('db1.example.com/MySQLDown')).toMatchObject({ status: 'critical', source: 'alertmanager', tags: { dc: 'dc1' } });
    expect(alert('web1.example.com/DiskAlmostFull')).toMatchObject({ status: 'warning' });

    // The alert without a host label is not lost: dead-lettered with the reason (Alertmanager got a 422).
    const letters = await until('the Watchdog alert was not dead-lettered', async () => {
      const found = await dead();
      return found.length >= 1 ? found : undefined;
    }, 10_000);
    expect(letters).toHaveLength(1);
    expect(letters[0]!.body).toMatchObject({
      reason: 'alerts[0]: no host: the alert has none of the labels host, instance, nodename',
      via: 'POST /ingest/alertmanager',
      body: { status: 'firing', labels: { alertname: 'Watchdog', severity: 'none' } },
    });
  });

  it('turns a resolved alert into ok, at the time it ended', async () => {
    const endsAt = new Date(Date.now() - 1_000).toISOString();
    await pushAlerts([{ ...mysql, endsAt }]);
    const ok = await until('the resolution of MySQLDown was not stored', async () => {
      return (await events()).find((m) => m.body.check === 'MySQLDown' && m.body.status === 'ok');
    }, 20_000, () => amLog);
    expect(ok.body).toMatchObject({ source: 'alertmanager', host: 'db1.example.com', check: 'MySQLDown', status: 'ok' });
    expect(Date.parse(ok.body.time)).toBe(Date.parse(endsAt));
    expect(ok.msgId).toMatch(/:resolved:/);
    await until('the alert ok in the correlator', async () => (alert('db1.example.com/MySQLDown')?.status === 'ok' ? true : undefined), 10_000);
    // Nothing else changed, so nothing else was sent again.
    expect((await events()).filter((m) => m.body.check === 'DiskAlmostFull')).toHaveLength(1);
  });

  it('refuses, storing nothing, a request without credentials, a body that is no version 4 payload, and one too large', async () => {
    const before = { events: (await events()).length, dead: (await dead()).length };
    const endpoint = `${api.server.url}/ingest/alertmanager`;
    expect((await postJson(endpoint, { version: '4' }, {})).status).toBe(401);

    const v3 = await postJson(endpoint, { version: '3', receiver: 'faultline', status: 'firing', alerts: [] });
    expect(v3).toMatchObject({ status: 400, body: { error: 'the body is not an Alertmanager webhook payload (version 4): version: expected "4", got "3"' } });
    const event = await postJson(endpoint, { host: 'db1', check: 'mysql', status: 'critical' });
    expect(event.status).toBe(400);
    expect(event.body.error).toMatch(/^the body is not an Alertmanager webhook payload \(version 4\): version: required; receiver: required; /);
    const empty = await postJson(endpoint, { version: '4', receiver: 'faultline', status: 'firing', alerts: [] });
    expect(empty).toMatchObject({ status: 400, body: { error: 'alerts: the payload holds no alerts' } });
    const malformed = await postJson(endpoint, '{"version": "4", "alerts": [');
    expect(malformed.status).toBe(400);
    expect(malformed.body.error).toMatch(/^the body is not valid JSON: /);
    const large = await postJson(endpoint, { version: '4', padding: 'x'.repeat(api.services.config.api.maxBodyBytes) });
    expect(large.status).toBe(413);

    expect({ events: (await events()).length, dead: (await dead()).length }).toEqual(before);
  });

  it('accepts the Alertmanager configuration the README shows', () => {
    const result = spawnSync(amtoolBinary(), ['check-config', join(PROJECT_ROOT, 'examples', 'ingest', 'alertmanager.yml')], { encoding: 'utf8' });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });
});
