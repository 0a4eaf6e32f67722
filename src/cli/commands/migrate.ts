import { migrate } from '../../graph/migrate.ts';
import { connectNeo4j } from '../../graph/neo4j.ts';
import { withoutCredentials } from '../../redact.ts';
import { loadRuntime, type GlobalOptions } from '../runtime.ts';

export async function migrateCommand(global: GlobalOptions): Promise<void> {
  const { loaded, log } = loadRuntime(global);
  const driver = await connectNeo4j(loaded.config.neo4j);
  try {
    const applied = await migrate(driver, loaded.config.neo4j);
    log.info({ statements: applied.length, uri: withoutCredentials(loaded.config.neo4j.uri) }, 'graph schema is up to date');
  } finally {
    await driver.close();
  }
}
