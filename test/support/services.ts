import { afterAll, beforeAll, beforeEach, inject } from 'vitest';
import { jetstreamManager } from '@nats-io/jetstream';
import { KV_BUCKETS, OBJECT_STORES, STREAMS } from '../../src/bus/layout.ts';
import { connectNats, type NatsConnection } from '../../src/bus/nats.ts';
import { configSchema, type Config } from '../../src/config/schema.ts';
import { TopologyStore } from '../../src/engine/store.ts';
import { migrate } from '../../src/graph/migrate.ts';
import { connectNeo4j, type Driver } from '../../src/graph/neo4j.ts';
import { createLogger } from '../../src/log.ts';

/** A validated configuration pointing at the test stack, with `overrides` merged over the defaults. */
export function testConfig(overrides: Record<string, unknown> = {}): Config {
  return configSchema.parse({
    ...overrides,
    neo4j: { uri: inject('neo4jUri') },
    nats: { url: inject('natsUrl') },
    log: { level: 'silent' },
  });
}

export const silentLog = createLogger('silent');

export function testEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...process.env, NEO4J_URI: inject('neo4jUri'), NATS_URL: inject('natsUrl'), FAULTLINE_CONFIG: '', ...extra };
}

/** A driver on the test Neo4j with an empty graph and the schema (constraints, indexes) in place. */
export async function freshGraph(): Promise<Driver> {
  const driver = await connectNeo4j(testConfig().neo4j);
  // CALL ... IN TRANSACTIONS needs an auto-commit transaction, hence session.run.
  const session = driver.session();
  try {
    await session.run('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS');
  } finally {
    await session.close();
  }
  await migrate(driver, testConfig().neo4j);
  return driver;
}

/** A connection to the test NATS with none of faultline's streams or buckets left from an earlier suite. */
export async function freshNats(): Promise<NatsConnection> {
  const nc = await connectNats(inject('natsUrl'), 'faultline-test');
  const jsm = await jetstreamManager(nc);
  const names = [...Object.values(STREAMS).map((s) => s.name), ...Object.values(KV_BUCKETS).map((b) => `KV_${b}`), ...Object.values(OBJECT_STORES).map((b) => `OBJ_${b}`)];
  for (const name of names) {
    await jsm.streams.delete(name).catch(() => false);
  }
  return nc;
}

/** A topology store over `driver`'s graph, loaded once (tests that need reloads call `reload()` themselves). */
export async function loadedTopology(driver: Driver): Promise<TopologyStore> {
  const store = new TopologyStore(driver, testConfig().neo4j, silentLog);
  await store.reload();
  return store;
}

/**
 * For suites that import: one NATS connection for the suite, a fresh graph (empty, schema applied) before each
 * test, handed to `use`; both closed at the end.
 */
export function freshGraphEachTest(use: (driver: Driver, nats: NatsConnection) => void): void {
  let driver: Driver | undefined;
  let nats: NatsConnection | undefined;
  beforeAll(async () => {
    nats = await freshNats();
  });
  beforeEach(async () => {
    await driver?.close();
    driver = await freshGraph();
    use(driver, nats!);
  });
  afterAll(async () => {
    await driver?.close();
    await nats?.close();
  });
}
