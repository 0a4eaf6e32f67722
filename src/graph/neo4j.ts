import { setTimeout as sleep } from 'node:timers/promises';
import neo4j, { isRetryableError, type Driver, type ManagedTransaction, type QueryResult, type RecordShape } from 'neo4j-driver';
import type { Config } from '../config/schema.ts';
import { withoutCredentials } from '../redact.ts';

export type { Driver, ManagedTransaction };

/** What a unit of work may do inside a write transaction: run statements (committing is `writeTransaction`'s). */
export type WriteTx = Pick<ManagedTransaction, 'run'>;

export type Neo4jSettings = Config['neo4j'];

export function createDriver(settings: Neo4jSettings): Driver {
  const auth = settings.user ? neo4j.auth.basic(settings.user, settings.password ?? '') : undefined;
  return neo4j.driver(settings.uri, auth, {
    // Integers come back as JS numbers or bigint-free values; ids and counts in faultline fit in 2^53.
    disableLosslessIntegers: true,
    connectionTimeout: 5_000,
    maxTransactionRetryTime: 15_000,
    logging: { level: 'error', logger: () => undefined },
  });
}

/**
 * Connects and proves the database answers; otherwise throws an error that says which address failed and
 * which setting to change, the one line an operator needs.
 */
export async function connectNeo4j(settings: Neo4jSettings): Promise<Driver> {
  const driver = createDriver(settings);
  try {
    await pingNeo4j(driver, settings);
    return driver;
  } catch (err) {
    await driver.close();
    throw new Error(`cannot reach Neo4j at ${withoutCredentials(settings.uri)} (set NEO4J_URI or neo4j.uri): ${reason(err)}`);
  }
}

/** One round trip without the driver's retries, so an unreachable database is reported at once. */
export async function pingNeo4j(driver: Driver, settings: Neo4jSettings): Promise<void> {
  const session = driver.session(settings.database ? { database: settings.database } : {});
  try {
    await session.run('RETURN 1');
  } finally {
    await session.close();
  }
}

/** True when a Neo4j answers Bolt at `uri`; used to reuse a running database instead of starting another. */
export async function neo4jAnswers(uri: string): Promise<boolean> {
  const driver = neo4j.driver(uri, undefined, { connectionTimeout: 1_000, logging: { level: 'error', logger: () => undefined } });
  try {
    await driver.verifyConnectivity();
    return true;
  } catch {
    return false;
  } finally {
    await driver.close();
  }
}

const WRITE_RETRY_MS = 15_000;

/**
 * One write transaction on the configured database, run again while Neo4j says another attempt may succeed (a
 * deadlock, a leader change) for up to 15 s. The driver's own retry waits a whole second first, and hosts written
 * side by side that reference each other (a dependency on a resource of the other, one shared team) deadlock now
 * and then: each cost a writer a second. Here the first attempts follow after a few milliseconds, with jitter so
 * that the two parties do not meet again.
 */
export async function writeTransaction<T>(driver: Driver, settings: Pick<Neo4jSettings, 'database'>, work: (tx: WriteTx) => Promise<T>): Promise<T> {
  const giveUpAt = Date.now() + WRITE_RETRY_MS;
  for (let attempt = 0; ; attempt++) {
    const session = driver.session({ defaultAccessMode: neo4j.session.WRITE, ...(settings.database ? { database: settings.database } : {}) });
    const tx = session.beginTransaction();
    try {
      const result = await work(tx);
      await tx.commit();
      return result;
    } catch (err) {
      if (tx.isOpen()) await tx.rollback().catch(() => undefined);
      if (!isRetryableError(err as Error) || Date.now() >= giveUpAt) throw err;
    } finally {
      await session.close();
    }
    await sleep(Math.min(5 * 2 ** attempt, 1_000) * (0.5 + Math.random()));
  }
}

/** Runs one parameterised query in its own auto-committed transaction on the configured database. */
export function runQuery<R extends RecordShape = RecordShape>(
  driver: Driver,
  settings: Neo4jSettings,
  cypher: string,
  params: Record<string, unknown> = {},
): Promise<QueryResult<R>> {
  return driver.executeQuery<QueryResult<R>>(cypher, params, { database: settings.database });
}

function reason(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0] ?? err.name;
  return String(err);
}
