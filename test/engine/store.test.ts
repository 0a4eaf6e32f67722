import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { nativeSource } from '../../importers/native/index.ts';
import { runImport } from '../../importers/run.ts';
import { connectNats, natsAnswers, type NatsConnection } from '../../src/bus/nats.ts';
import { Objm } from '@nats-io/obj';
import { ensureLayout, OBJECT_STORES } from '../../src/bus/layout.ts';
import { readCachedTopology, saveCachedTopology } from '../../src/engine/cached.ts';
import { TopologyStore } from '../../src/engine/store.ts';
import { watchedTopology } from '../../src/cli/runtime.ts';
import { connectNeo4j, createDriver, type Driver } from '../../src/graph/neo4j.ts';
import { ensureNats, stopNats } from '../../src/stack/nats.ts';
import { closedPort } from '../notify/collector.ts';
import { freshGraph, freshNats, silentLog, testConfig } from '../support/services.ts';
import { startTcpProxy } from '../support/tcp-proxy.ts';

/**
 * The topology snapshot keeps up with the graph when its two sources fail: Neo4j unreachable when an import
 * announces a change (behind a TCP relay the test cuts), and NATS down while an import finishes (a nats-server of
 * this suite's own, restarted).
 */
describe('the topology store through Neo4j and NATS failures', () => {
  let driver: Driver;
  const settings = testConfig().neo4j;

  beforeAll(async () => {
    driver = await freshGraph();
    await importHost('base1.example.com');
  });
  afterAll(async () => {
    await driver?.close();
  });

  /** One more host, imported with `faultline import native`'s pipeline; announced on `nats` when given. */
  async function importHost(host: string, nats?: NatsConnection): Promise<void> {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-store-'));
    writeFileSync(join(dir, `${host}.yaml`), `hosts:\n  ${host}:\n    resources: { "Service[x]": {} }\n`);
    const summary = await runImport(nativeSource, [dir], {}, silentLog, { neo4j: driver, settings, ...(nats ? { nats } : {}) });
    expect(summary.failedHosts + summary.failedFiles).toBe(0);
  }

  it('a reload that fails while Neo4j is unreachable keeps the snapshot in use, and is tried again until it succeeds', async () => {
    const neo4j = new URL(inject('neo4jUri'));
    const proxy = await startTcpProxy({ host: neo4j.hostname, port: Number(neo4j.port) });
    const proxied = await connectNeo4j({ ...settings, uri: `bolt://127.0.0.1:${proxy.port}` });
    const nats = await freshNats();
    const store = new TopologyStore(proxied, settings, silentLog);
    const stop = (await store.reload(), store.watch(nats));
    try {
      const before = store.current;
      expect(before.topology.indexOf('base1.example.com')).toBeDefined();
      await proxy.cut();
      await importHost('late1.example.com', nats);
      await expect.poll(() => store.failing, { timeout: 10_000 }).toBeGreaterThan(0);
      expect(store.current).toBe(before);

      await proxy.restore();
      // The first retry comes 5 s after the failure.
      await expect.poll(() => store.current.topology.indexOf('late1.example.com'), { timeout: 15_000, interval: 200 }).toBeDefined();
      expect(store.failing).toBe(0);
    } finally {
      stop();
      await proxied.close();
      await proxy.close();
      await nats.close();
    }
  });

  it('a process that starts while Neo4j is down decides on the copy of the last load in NATS, then on Neo4j once it answers', async () => {
    const nats = await freshNats();
    await ensureLayout(nats);
    const neo4j = new URL(inject('neo4jUri'));
    const proxy = await startTcpProxy({ host: neo4j.hostname, port: Number(neo4j.port) });
    const config = testConfig({ neo4j: { uri: `bolt://127.0.0.1:${proxy.port}` } });
    let stop: (() => void) | undefined;
    try {
      // Every load with the cache on is copied to NATS; the same graph again is not written again.
      const first = new TopologyStore(driver, settings, silentLog, { cache: nats });
      await first.reload();
      await expect.poll(async () => (await readCachedTopology(nats))?.input.entities.length, { timeout: 10_000 }).toBe(first.current.topology.size);
      const copy = (await readCachedTopology(nats))!;
      expect(await saveCachedTopology(nats, copy.input, new Date())).toBe(false);

      await proxy.cut();
      const down = { neo4j: createDriver(config.neo4j), nats, neo4jDown: new Error('cannot reach Neo4j (cut)'), close: async () => undefined };
      let started;
      ({ store: started, stop } = await watchedTopology(down, config, silentLog));
      expect(started.current.source).toBe('cache');
      expect(started.current.loadedAt).toEqual(copy.loadedAt);
      expect(started.current.topology.indexOf('base1.example.com')).toBeDefined();

      // Neo4j answers again: the next attempt loads from it.
      await proxy.restore();
      await expect.poll(() => started.current.source, { timeout: 15_000, interval: 200 }).toBe('neo4j');
      stop();
      stop = undefined;
      await down.neo4j.close();

      // Without a copy, a start without Neo4j fails with Neo4j's error.
      await proxy.cut();
      await (await new Objm(nats).open(OBJECT_STORES.topology)).delete('snapshot');
      const none = { neo4j: createDriver(config.neo4j), nats, neo4jDown: new Error('cannot reach Neo4j (cut)'), close: async () => undefined };
      await expect(watchedTopology(none, config, silentLog)).rejects.toThrow('cannot reach Neo4j (cut)');
      await none.neo4j.close();
    } finally {
      stop?.();
      await proxy.close();
      await nats.close();
    }
  });

  it('an import that finished while NATS was down is loaded once the connection is back', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-store-nats-'));
    const port = await closedPort();
    const url = `nats://127.0.0.1:${port}`;
    await ensureNats(dir, '127.0.0.1', port);
    const nats = await connectNats(url, 'store-test');
    const store = new TopologyStore(driver, settings, silentLog);
    const stop = (await store.reload(), store.watch(nats));
    try {
      await stopNats(dir);
      expect(await natsAnswers(url)).toBe(false);
      // Its announcement went nowhere: the import could not reach NATS either.
      await importHost('unseen1.example.com');
      expect(store.current.topology.indexOf('unseen1.example.com')).toBeUndefined();
      await ensureNats(dir, '127.0.0.1', port);
      await expect.poll(() => store.current.topology.indexOf('unseen1.example.com'), { timeout: 20_000, interval: 200 }).toBeDefined();
    } finally {
      stop();
      await nats.close();
      await stopNats(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
