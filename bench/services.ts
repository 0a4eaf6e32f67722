import { connectNats } from '../src/bus/nats.ts';
import { configSchema } from '../src/config/schema.ts';
import { migrate } from '../src/graph/migrate.ts';
import { connectNeo4j, type Driver } from '../src/graph/neo4j.ts';
import { stackUp } from '../src/stack/index.ts';

/** The benchmark's Neo4j and NATS: given ones, or the `bench` stack. */
export async function benchServices() {
  const given = { neo4j: process.env.NEO4J_URI, nats: process.env.NATS_URL };
  const stack = await stackUp('bench', { neo4j: !given.neo4j, nats: !given.nats });
  const config = configSchema.parse({ neo4j: { uri: given.neo4j ?? stack.neo4jUri }, nats: { url: given.nats ?? stack.natsUrl } });
  const neo4j = await connectNeo4j(config.neo4j);
  const nats = await connectNats(config.nats.url, 'faultline-bench');
  return { config, neo4j, nats };
}

/** Empties the database (in batches, so a large graph does not need one huge transaction) and re-applies the schema. */
export async function wipe(driver: Driver, settings: { uri: string; database?: string }): Promise<void> {
  const session = driver.session();
  try {
    await session.run('MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS');
  } finally {
    await session.close();
  }
  await migrate(driver, { uri: settings.uri, ...(settings.database ? { database: settings.database } : {}) });
}

export function rssMb(): number {
  return Math.round(process.memoryUsage().rss / 1_048_576);
}
