import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { expect } from 'vitest';
import { puppetSource } from '../../importers/puppet/index.ts';
import { runImport } from '../../importers/run.ts';
import { ensureLayout, KV_BUCKETS, STREAMS } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import { publishEvent } from '../../src/bus/publish-event.ts';
import type { Config } from '../../src/config/schema.ts';
import { Correlator, type CorrelatorOptions } from '../../src/correlator/correlator.ts';
import type { Incident } from '../../src/correlator/incident.ts';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { startNotifier, type Notifier } from '../../src/notify/notifier.ts';
import type { Notification } from '../../src/notify/notification.ts';
import { ensureNats, stopNats } from '../../src/stack/nats.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { closedPort, startCollector, type Collector } from '../notify/collector.ts';
import { freshGraph, freshNats, loadedTopology, silentLog, testConfig } from '../support/services.ts';

export const CATALOGS = join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'catalogs');

/** The real-Puppet estate in Neo4j, and its topology loaded; once per suite. */
export async function estate(): Promise<{ driver: Driver; topology: TopologyStore }> {
  const driver = await freshGraph();
  const nats = await freshNats();
  try {
    const summary = await runImport(puppetSource, [CATALOGS], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j, nats });
    expect(summary.failedFiles + summary.failedHosts).toBe(0);
  } finally {
    await nats.close();
  }
  return { driver, topology: await loadedTopology(driver) };
}

/** Streams and buckets emptied (fresh consumers, no alert state), then created again. */
export async function freshBus(): Promise<NatsConnection> {
  const nc = await freshNats();
  await ensureLayout(nc);
  return nc;
}

export function correlatorConfig(hookUrl: string, overrides: Record<string, unknown> = {}): Config {
  return testConfig({
    correlator: { settle: '600ms', leaderLease: '2s', ackWait: '5s' },
    ...overrides,
    // A test's notify settings (notify.storm, notify.remind) go beside the collector's channel and route.
    notify: { channels: [{ name: 'hook', type: 'webhook', url: hookUrl }], routes: [{ channels: ['hook'] }], ...(overrides.notify as object | undefined) },
  });
}

/**
 * A correlator and a notifier delivering to a real HTTP collector, on one NATS connection: the test stack's,
 * emptied, or with `natsUrl` a server of the suite's own (`ownNats`).
 */
export async function pipeline(topology: TopologyStore, overrides: Record<string, unknown> = {}, options: Pick<CorrelatorOptions, 'recordLatencies' | 'clock'> & { natsUrl?: string } = {}) {
  const { natsUrl, ...correlatorOptions } = options;
  const nats = natsUrl ? await connectNats(natsUrl, 'test-pipeline') : await freshBus();
  if (natsUrl) await ensureLayout(nats);
  const hook = await startCollector();
  const base = correlatorConfig(hook.url, overrides);
  const config = natsUrl ? { ...base, nats: { ...base.nats, url: natsUrl } } : base;
  const correlator = await Correlator.start({ config, log: silentLog, nats, topology, refreshPersistMs: 300, ...correlatorOptions });
  const notifier: Notifier = await startNotifier({ config, log: silentLog, nats, retryBaseMs: 50 });
  return {
    nats,
    hook,
    config,
    correlator,
    send: (host: string, check: string, status: string, extra: Record<string, unknown> = {}) =>
      publishEvent(nats, { host, check, status, ...extra }, { source: 'test' }),
    notifications: () => hook.bodies() as unknown as Notification[],
    incidents: () => [...correlator.view.incidents.values()].map((e) => e.value),
    decision: (alert: string) => correlator.view.analysis().decisions.get(alert),
    async close() {
      await correlator.stop();
      await notifier.stop();
      await hook.close();
      await nats.close();
    },
  };
}

export type Pipeline = Awaited<ReturnType<typeof pipeline>>;

/**
 * A nats-server of the suite's own on a free port, with JetStream and its store in a temporary directory (the shared
 * one stays up for the other suites): to restart it, or to give it settings of its own.
 */
export async function ownNats(options: { maxPayload?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-own-nats-'));
  const port = await closedPort();
  const start = () => ensureNats(dir, '127.0.0.1', port, options);
  await start();
  return {
    url: `nats://127.0.0.1:${port}`,
    start,
    stop: () => stopNats(dir),
    async remove() {
      await stopNats(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const openIncidents = (p: Pipeline): Incident[] => p.incidents().filter((i) => i.status !== 'resolved');

export const pages = (p: Pipeline, kind = 'page') => p.notifications().filter((n) => n.kind === kind);

/** Deletes every faultline stream and bucket (a suite's end). */
export async function wipeBus(nc: NatsConnection): Promise<void> {
  const jsm = await jetstreamManager(nc);
  for (const name of [...Object.values(STREAMS).map((s) => s.name), ...Object.values(KV_BUCKETS).map((b) => `KV_${b}`)]) {
    await jsm.streams.delete(name).catch(() => false);
  }
}

export type { Collector };
