import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsAnswers, type NatsConnection } from '../../src/bus/nats.ts';
import { publishEvent } from '../../src/bus/publish-event.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { estate, ownNats, pipeline, sleep, until } from './harness.ts';

/**
 * NATS itself restarting (an upgrade, a crash) in the middle of an outage, on a nats-server of this suite's own
 * (the shared one stays up for the other suites), with its JetStream store kept as a real restart keeps it. The
 * correlator and the notifier stay up through it on their connection, which reconnects.
 */
const UNBOUND = 'log1.example.com::Service[unbound]';

describe('the correlator through a NATS restart', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let server: Awaited<ReturnType<typeof ownNats>>;

  beforeAll(async () => {
    ({ driver, topology } = await estate());
    server = await ownNats();
  });
  afterAll(async () => {
    await server?.remove();
    await driver?.close();
  });

  /** Publishes once the connection is back: while NATS is down a publish fails, as `faultline send` would say. */
  async function send(nats: NatsConnection, host: string, check: string, status: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    for (;;) {
      try {
        await publishEvent(nats, { host, check, status }, { source: 'test' });
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await sleep(200);
      }
    }
  }

  it('an outage that spans the restart: paged once before, the child suppressed after, recovery resolves and pages the child', async () => {
    const p = await pipeline(topology, {}, { natsUrl: server.url });
    const { nats, correlator, notifications, incidents } = p;
    try {
      await send(nats, 'log1.example.com', 'dns', 'critical');
      const dns = await until('the DNS incident', () => incidents().find((i) => i.root.includes(UNBOUND) && i.status === 'open'));
      await until('its page', () => notifications().some((n) => n.kind === 'page' && n.incident.id === dns.id));

      // A burst in flight when NATS stops: every event the bus confirmed (or that is published again once it is
      // back) is stored as alert state, none lost on the way through the correlator.
      const burst = Array.from({ length: 1_000 }, (_, i) => `burst${i}.example.com`);
      const confirmed = burst.map((host) => publishEvent(nats, { host, check: 'ping', status: 'ok' }, { source: 'test' }).then(() => true, () => false));
      await server.stop();
      expect(await natsAnswers(server.url)).toBe(false);
      const lost = (await Promise.all(confirmed)).flatMap((ok, i) => (ok ? [] : [burst[i]!]));
      await sleep(1_000);
      await server.start();
      for (const host of lost) await send(nats, host, 'ping', 'ok');
      await until('the whole burst stored', () => burst.every((host) => correlator.view.records().has(`${host}/ping`)), 30_000);

      // After the restart: a child of the failing DNS is suppressed into its incident and pages nobody.
      await send(nats, 'mail1.example.com', 'mailq', 'critical');
      await until('mailq suppressed into the DNS incident', () => incidents().find((i) => i.id === dns.id && i.suppressed.includes('mail1.example.com/mailq')), 20_000);
      expect(correlator.view.analysis().decisions.get('mail1.example.com/mailq')).toMatchObject({ verdict: 'suppressed' });

      // The DNS recovers: its incident resolves, its teams hear it, and mail1, still failing, pages its owner.
      await send(nats, 'log1.example.com', 'dns', 'ok');
      await until('the DNS incident resolved', () => incidents().find((i) => i.id === dns.id && i.status === 'resolved'), 20_000);
      const mail = await until('the mail incident', () => incidents().find((i) => i.rootAlerts.includes('mail1.example.com/mailq') && i.status === 'open'), 20_000);
      await until('the mail page', () => notifications().some((n) => n.kind === 'page' && n.incident.id === mail.id), 20_000);
      await until('the DNS resolution told', () => notifications().some((n) => n.kind === 'resolved' && n.incident.id === dns.id), 20_000);
      await sleep(1_500);
      const pages = notifications().filter((n) => n.kind === 'page');
      expect(pages.map((n) => [n.incident.id, n.team])).toEqual([
        [dns.id, 'team:netops'],
        [mail.id, 'team:mail-team'],
      ]);
      // Nothing told twice across the restart.
      const keys = notifications().map((n) => n.dedupKey);
      expect(new Set(keys).size).toBe(keys.length);
    } finally {
      await p.close();
    }
  });
});
