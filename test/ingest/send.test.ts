import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '../../src/bus/layout.ts';
import { parseEvent } from '../../src/correlator/event.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { BIN, runCli } from '../support/cli.ts';
import { freshNats, testEnv } from '../support/services.ts';
import { closedPort, freshEventStreams, storedMessages } from './stored.ts';

describe('faultline send against a real JetStream', () => {
  let nc: NatsConnection;
  const events = () => storedMessages(nc, STREAMS.events.name);

  beforeAll(async () => {
    nc = await freshNats();
  });
  beforeEach(() => freshEventStreams(nc));
  afterAll(() => nc?.close());

  it('stores the event the flags describe and prints where', async () => {
    const args = ['send', '--host', 'db1.example.com', '--check', 'mysql', '--status', '2', '--raise', '+5m', '--ttl', '10m'];
    const { code, stdout, stderr } = await runCli([...args, '--text', 'connection refused', '--runbook', 'https://wiki.example.com/runbooks/mysql', '--tag', 'dc=dc1', '--tag', 'rack=r1=a', '--entity', 'db1.example.com/Service[mysql]'], testEnv());
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toBe('accepted: faultline.events.cli seq 1\n');
    const stored = await events();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.subject).toBe('faultline.events.cli');
    expect(stored[0]!.body).toEqual({
      source: 'cli',
      host: 'db1.example.com',
      check: 'mysql',
      status: '2',
      raise: '+5m',
      ttl: '10m',
      text: 'connection refused',
      runbook: 'https://wiki.example.com/runbooks/mysql',
      tags: { dc: 'dc1', rack: 'r1=a' },
      entity: 'db1.example.com/Service[mysql]',
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
  });

  it('stores an event with the same --id once and says so', async () => {
    const args = ['send', '--host', 'web1', '--check', 'http', '--status', 'ok', '--id', 'hook-17', '--source', 'nagios', '--retire'];
    const first = await runCli(args, testEnv());
    expect(first.stdout).toBe('accepted: faultline.events.nagios seq 1\n');
    const again = await runCli(args, testEnv());
    expect(again.code).toBe(0);
    expect(again.stdout).toBe('accepted (duplicate of an earlier event with id "hook-17"): faultline.events.nagios seq 1\n');
    const stored = await events();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.body).toMatchObject({ source: 'nagios', retire: true, id: 'hook-17' });
  });

  it("takes Nagios' and Icinga's state words and codes as their macros give them", async () => {
    // As the notification commands of docs/ingest.md run it: $SERVICESTATE$ / $HOSTSTATE$ / $service.state$ verbatim.
    const states = { OK: 'ok', WARNING: 'warning', CRITICAL: 'critical', UNKNOWN: 'unknown', UP: 'ok', DOWN: 'critical', UNREACHABLE: 'unknown' };
    for (const [state, status] of Object.entries(states)) {
      const { code, stderr } = await runCli(['send', '--host', 'db1.example.com', '--check', `nagios-${state}`, '--status', state, '--text', 'PING CRITICAL - Packet loss = 100%', '--source', 'nagios'], testEnv());
      expect({ state, code, stderr }).toEqual({ state, code: 0, stderr: '' });
      const stored = (await events()).at(-1)!;
      expect(stored.subject).toBe('faultline.events.nagios');
      // Stored as sent; read by the one set of rules every consumer uses.
      expect(stored.body.status).toBe(state);
      expect(parseEvent(stored.body, { time: 0 })).toMatchObject({ ok: true, event: { check: `nagios-${state}`, status } });
    }
    expect(await events()).toHaveLength(Object.keys(states).length);
  });

  it('runs the Nagios notification commands of examples/ingest/nagios.cfg as Nagios runs them, through sh', async () => {
    const cfg = readFileSync(join(PROJECT_ROOT, 'examples', 'ingest', 'nagios.cfg'), 'utf8');
    const commands = new Map([...cfg.matchAll(/command_name\s+(\S+)\s+command_line\s+(.+)/g)].map((m) => [m[1]!, m[2]!.trim()]));
    expect([...commands.keys()]).toEqual(['faultline-service', 'faultline-host']);
    // What Nagios substitutes (with its default illegal_macro_output_chars already removed from the output).
    const macros: Record<string, string> = {
      HOSTNAME: 'db1.example.com',
      SERVICEDESC: 'MySQL connections',
      SERVICESTATE: 'CRITICAL',
      SERVICEOUTPUT: 'CRITICAL - Cant connect to local MySQL server through socket /run/mysqld/mysqld.sock (2)',
      HOSTSTATE: 'UNREACHABLE',
      HOSTOUTPUT: 'CRITICAL - Host Unreachable (10.0.0.5)',
      SERVICENOTESURL: 'https://wiki.example.com/runbooks/mysql',
      // A host without notes_url: the macro expands to nothing.
      HOSTNOTESURL: '',
    };
    // A relative notes_url: the alert goes, without the link (the warning goes to Nagios' log).
    const relative = { ...macros, SERVICENOTESURL: '/nagios/docs/mysql.html' };
    for (const name of commands.keys()) {
      const line = commands
        .get(name)!
        .replace(/^\S+\/faultline --config \S+/, `"${process.execPath}" "${BIN}"`)
        .replace(/\$([A-Z]+)\$/g, (_, macro: string) => macros[macro]!);
      const run = spawnSync('sh', ['-c', line], { env: testEnv(), cwd: mkdtempSync(join(tmpdir(), 'faultline-nagios-')), encoding: 'utf8' });
      expect({ name, status: run.status, stderr: run.stderr }).toEqual({ name, status: 0, stderr: '' });
    }
    const stored = await events();
    const read = (body: unknown) => {
      const parsed = parseEvent(body, { time: 0 });
      return parsed.ok ? parsed.event.status : parsed.reason;
    };
    expect(stored.map((m) => [m.subject, m.body.host, m.body.check, m.body.status, read(m.body)])).toEqual([
      ['faultline.events.nagios', 'db1.example.com', 'MySQL connections', 'CRITICAL', 'critical'],
      ['faultline.events.nagios', 'db1.example.com', 'host', 'UNREACHABLE', 'unknown'],
    ]);
    expect(stored[0]!.body.text).toBe(macros.SERVICEOUTPUT);
    expect(stored.map((m) => m.body.runbook)).toEqual(['https://wiki.example.com/runbooks/mysql', undefined]);

    const line = commands
      .get('faultline-service')!
      .replace(/^\S+\/faultline --config \S+/, `"${process.execPath}" "${BIN}"`)
      .replace(/\$([A-Z]+)\$/g, (_, macro: string) => relative[macro as keyof typeof relative]!);
    const run = spawnSync('sh', ['-c', line], { env: testEnv(), cwd: mkdtempSync(join(tmpdir(), 'faultline-nagios-')), encoding: 'utf8' });
    expect(run).toMatchObject({ status: 0, stderr: 'faultline: --runbook "/nagios/docs/mysql.html" is no http(s) URL of at most 2048 characters; sent without it\n' });
    const last = (await events()).at(-1)!;
    expect(last.body).toMatchObject({ check: 'MySQL connections', status: 'CRITICAL' });
    expect(last.body).not.toHaveProperty('runbook');
  });

  it('refuses a bad flag with one line naming it, exit 2, storing nothing', async () => {
    const status = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'on-fire'], testEnv());
    expect(status.code).toBe(2);
    expect(status.stderr).toBe('faultline: --status: expected ok, warning, critical, unknown or 0-3, got "on-fire"\n');

    const tag = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'ok', '--tag', 'dc'], testEnv());
    expect(tag.code).toBe(2);
    expect(tag.stderr).toBe('faultline: --tag: expected key=value, got "dc"\n');

    const raise = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'ok', '--raise', 'later'], testEnv());
    expect(raise.code).toBe(2);
    expect(raise.stderr).toBe('faultline: --raise: expected now, clear or +<duration> like +5m, got "later"\n');

    // A dead-man's switch raises the status it is given: ok would never raise anything.
    const never = await runCli(['send', '--host', 'backup1', '--check', 'nightly', '--status', 'ok', '--raise', '+25h'], testEnv());
    expect(never.code).toBe(2);
    expect(never.stderr).toBe('faultline: --raise: "+25h" with status ok raises nothing when it comes due; give the status to raise, e.g. critical\n');

    expect(await events()).toHaveLength(0);
  });

  it('exits 1 naming the address when NATS is unreachable', async () => {
    const url = `nats://127.0.0.1:${await closedPort()}`;
    const { code, stdout, stderr } = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'critical'], testEnv({ NATS_URL: url }));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`cannot reach NATS at ${url}`);
    // Credentials in the URL are not repeated.
    const withCredentials = url.replace('nats://', 'nats://faultline:s3cr3t@');
    const hidden = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'critical'], testEnv({ NATS_URL: withCredentials }));
    expect(hidden.code).toBe(1);
    expect(hidden.stderr).toContain(`cannot reach NATS at ${url.replace('nats://', 'nats://***@')}`);
    expect(hidden.stderr).not.toContain('s3cr3t');
  });

  it('exits 1 when no stream stores the subject', async () => {
    await (await jetstreamManager(nc)).streams.delete(STREAMS.events.name);
    const { code, stderr } = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'critical'], testEnv());
    expect(code).toBe(1);
    expect(stderr).toBe(`faultline: the event was not stored by NATS at ${testEnv().NATS_URL}: no JetStream stream stores faultline.events.cli (faultline serve creates the streams at start)\n`);
  });
});
