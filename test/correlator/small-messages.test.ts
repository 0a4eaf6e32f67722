import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/correlator/incident.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { estate, ownNats, pipeline, sleep, until } from './harness.ts';

/**
 * An incident is one KV value and each notification one message: on a nats-server of this suite's own that takes
 * messages of 64 KiB at most (NATS's default is 1 MiB), an outage whose suppressed alerts alone would take more
 * is stored, announced and paged all the same, its lists cut to fit and counted.
 */
const MAX_PAYLOAD = 64 * 1024;
const EXIM = 'mail1.example.com::Service[exim4]';

describe('the correlator on a NATS server that takes small messages', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let server: Awaited<ReturnType<typeof ownNats>>;

  beforeAll(async () => {
    ({ driver, topology } = await estate());
    server = await ownNats({ maxPayload: MAX_PAYLOAD });
  });
  afterAll(async () => {
    await server?.remove();
    await driver?.close();
  });

  it('an outage with 600 long-named suppressed alerts: stored, announced and paged within the bound, every alert counted', async () => {
    const p = await pipeline(topology, {}, { natsUrl: server.url });
    expect(p.nats.info?.max_payload).toBe(MAX_PAYLOAD);
    const announced: Incident[] = [];
    const sub = p.nats.subscribe('faultline.incidents.>', {
      callback: (_, m) => {
        announced.push(m.json() as Incident);
      },
    });
    try {
      // Exim's queue checks, one per queue, named as long as real ones get: their ids alone take about 90 KB.
      const checks = Array.from({ length: 600 }, (_, i) => `exim-queue-${String(i).padStart(4, '0')}-${'deferred-messages-older-than-one-hour-'.repeat(3)}`);
      await Promise.all(checks.map((check) => p.send('mail1.example.com', check, 'critical', { entity: EXIM })));
      await p.send('log1.example.com', 'dns', 'critical');

      const incident = await until('the DNS incident, with all 600 counted', () => p.incidents().find((i) => i.rootAlerts.includes('log1.example.com/dns') && i.suppressedCount === 600), 20_000);
      expect(incident.suppressed.length).toBeGreaterThan(100);
      expect(incident.suppressed.length).toBeLessThan(600);
      expect(incident.suppressed).toEqual(checks.map((c) => `mail1.example.com/${c}`).slice(0, incident.suppressed.length));
      expect(Buffer.byteLength(JSON.stringify(incident))).toBeLessThan(MAX_PAYLOAD);
      const page = await until('its page', () => p.notifications().find((n) => n.kind === 'page' && n.incident.id === incident.id), 10_000);
      expect(page.incident.suppressedCount).toBe(600);
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(MAX_PAYLOAD);
      await until('the incident announced', () => announced.some((i) => i.id === incident.id));

      // Planned again and again on the same state, the stored incident is what the planner makes: no further writes.
      const revision = p.correlator.view.incidents.get(incident.id)!.revision;
      await sleep(1_500);
      expect(p.correlator.view.incidents.get(incident.id)!.revision).toBe(revision);

      await p.send('log1.example.com', 'dns', 'ok');
      await until('the incident resolved', () => p.incidents().find((i) => i.id === incident.id && i.status === 'resolved'), 20_000);
      expect(p.notifications().filter((n) => n.kind === 'page' && n.incident.id === incident.id)).toHaveLength(1);
    } finally {
      sub.unsubscribe();
      await p.close();
    }
  });
});
