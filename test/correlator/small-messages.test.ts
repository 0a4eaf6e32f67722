import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureLayout } from '../../src/bus/layout.ts';
import { connectNats } from '../../src/bus/nats.ts';
import { publishEvent } from '../../src/bus/publish-event.ts';
import { Correlator } from '../../src/correlator/correlator.ts';
import type { Incident } from '../../src/correlator/incident.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import type { Notification } from '../../src/notify/notification.ts';
import { startNotifier } from '../../src/notify/notifier.ts';
import { ensureNats, stopNats } from '../../src/stack/nats.ts';
import { closedPort, startCollector } from '../notify/collector.ts';
import { silentLog } from '../support/services.ts';
import { correlatorConfig, estate, sleep, until } from './harness.ts';

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
  let dir: string;
  let port: number;

  beforeAll(async () => {
    ({ driver, topology } = await estate());
    dir = mkdtempSync(join(tmpdir(), 'faultline-small-messages-'));
    port = await closedPort();
    await ensureNats(dir, '127.0.0.1', port, { maxPayload: MAX_PAYLOAD });
  });
  afterAll(async () => {
    await stopNats(dir);
    rmSync(dir, { recursive: true, force: true });
    await driver?.close();
  });

  it('an outage with 600 long-named suppressed alerts: stored, announced and paged within the bound, every alert counted', async () => {
    const url = `nats://127.0.0.1:${port}`;
    const nats = await connectNats(url, 'small-messages-test');
    expect(nats.info?.max_payload).toBe(MAX_PAYLOAD);
    await ensureLayout(nats);
    const hook = await startCollector();
    const base = correlatorConfig(hook.url);
    const config = { ...base, nats: { ...base.nats, url } };
    const correlator = await Correlator.start({ config, log: silentLog, nats, topology, refreshPersistMs: 300 });
    const notifier = await startNotifier({ config, log: silentLog, nats, retryBaseMs: 50 });
    const notifications = () => hook.bodies() as unknown as Notification[];
    const incidents = (): Incident[] => [...correlator.view.incidents.values()].map((e) => e.value);
    const announced: Incident[] = [];
    const sub = nats.subscribe('faultline.incidents.>', {
      callback: (_, m) => {
        announced.push(m.json() as Incident);
      },
    });
    try {
      // Exim's queue checks, one per queue, named as long as real ones get: their ids alone take about 90 KB.
      const checks = Array.from({ length: 600 }, (_, i) => `exim-queue-${String(i).padStart(4, '0')}-${'deferred-messages-older-than-one-hour-'.repeat(3)}`);
      await Promise.all(checks.map((check) => publishEvent(nats, { host: 'mail1.example.com', check, status: 'critical', entity: EXIM }, { source: 'test' })));
      await publishEvent(nats, { host: 'log1.example.com', check: 'dns', status: 'critical' }, { source: 'test' });

      const incident = await until('the DNS incident, with all 600 counted', () => incidents().find((i) => i.rootAlerts.includes('log1.example.com/dns') && i.suppressedCount === 600), 20_000);
      expect(incident.suppressed.length).toBeGreaterThan(100);
      expect(incident.suppressed.length).toBeLessThan(600);
      expect(incident.suppressed).toEqual(checks.map((c) => `mail1.example.com/${c}`).slice(0, incident.suppressed.length));
      expect(Buffer.byteLength(JSON.stringify(incident))).toBeLessThan(MAX_PAYLOAD);
      const page = await until('its page', () => notifications().find((n) => n.kind === 'page' && n.incident.id === incident.id), 10_000);
      expect(page.incident.suppressedCount).toBe(600);
      expect(Buffer.byteLength(JSON.stringify(page))).toBeLessThan(MAX_PAYLOAD);
      await until('the incident announced', () => announced.some((i) => i.id === incident.id));

      // Planned again and again on the same state, the stored incident is what the planner makes: no further writes.
      const revision = correlator.view.incidents.get(incident.id)!.revision;
      await sleep(1_500);
      expect(correlator.view.incidents.get(incident.id)!.revision).toBe(revision);

      await publishEvent(nats, { host: 'log1.example.com', check: 'dns', status: 'ok' }, { source: 'test' });
      await until('the incident resolved', () => incidents().find((i) => i.id === incident.id && i.status === 'resolved'), 20_000);
      expect(notifications().filter((n) => n.kind === 'page' && n.incident.id === incident.id)).toHaveLength(1);
    } finally {
      sub.unsubscribe();
      await correlator.stop();
      await notifier.stop();
      await hook.close();
      await nats.close();
    }
  });
});
