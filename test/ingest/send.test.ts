import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAMS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { runCli } from '../support/cli.ts';
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
    const { code, stdout, stderr } = await runCli([...args, '--text', 'connection refused', '--tag', 'dc=dc1', '--tag', 'rack=r1=a', '--entity', 'db1.example.com/Service[mysql]'], testEnv());
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

    expect(await events()).toHaveLength(0);
  });

  it('exits 1 naming the address when NATS is unreachable', async () => {
    const url = `nats://127.0.0.1:${await closedPort()}`;
    const { code, stdout, stderr } = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'critical'], testEnv({ NATS_URL: url }));
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toContain(`cannot reach NATS at ${url}`);
  });

  it('exits 1 when no stream stores the subject', async () => {
    await (await jetstreamManager(nc)).streams.delete(STREAMS.events.name);
    const { code, stderr } = await runCli(['send', '--host', 'db1', '--check', 'mysql', '--status', 'critical'], testEnv());
    expect(code).toBe(1);
    expect(stderr).toBe(`faultline: the event was not stored by NATS at ${testEnv().NATS_URL}: no JetStream stream stores faultline.events.cli (faultline serve creates the streams at start)\n`);
  });
});
