import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../stack/process.ts';
import { runQuery, type Driver, type Neo4jSettings } from './neo4j.ts';

const MIGRATIONS_DIR = join(PROJECT_ROOT, 'schema', 'neo4j');

export interface Statement {
  file: string;
  cypher: string;
}

/** The statements of schema/neo4j/*.cypher in file order; `//` comment lines dropped, split on `;`. */
export function loadMigrations(dir = MIGRATIONS_DIR): Statement[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.cypher'))
    .sort()
    .flatMap((file) =>
      readFileSync(join(dir, file), 'utf8')
        .split('\n')
        .filter((line) => !line.trimStart().startsWith('//'))
        .join('\n')
        .split(';')
        .map((s) => s.trim())
        .filter((s) => s.length > 0)
        .map((cypher) => ({ file, cypher })),
    );
}

/** Applies every constraint and index. Each statement says IF NOT EXISTS, so running it again changes nothing. */
export async function migrate(driver: Driver, settings: Neo4jSettings): Promise<Statement[]> {
  const statements = loadMigrations();
  for (const statement of statements) {
    try {
      await runQuery(driver, settings, statement.cypher);
    } catch (err) {
      throw new Error(`${statement.file}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return statements;
}
