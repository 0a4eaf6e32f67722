import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadMigrations, migrate } from '../../src/graph/migrate.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { freshGraph, testConfig } from '../support/services.ts';

describe('faultline migrate on a real Neo4j', () => {
  const settings = testConfig().neo4j;
  let driver: Driver;

  beforeAll(async () => {
    driver = await freshGraph();
    // Start from no schema at all, so the test sees migrate create it.
    const constraints = await driver.executeQuery('SHOW CONSTRAINTS YIELD name RETURN name');
    for (const r of constraints.records) await driver.executeQuery(`DROP CONSTRAINT ${r.get('name') as string}`); // -- safe: names from SHOW
    const indexes = await driver.executeQuery("SHOW INDEXES YIELD name, type, owningConstraint WHERE type <> 'LOOKUP' AND owningConstraint IS NULL RETURN name");
    for (const r of indexes.records) await driver.executeQuery(`DROP INDEX ${r.get('name') as string}`); // -- safe: names from SHOW
  });
  afterAll(() => driver?.close());

  it('creates the constraints and indexes, and running it again changes nothing', async () => {
    const statements = loadMigrations();
    expect(statements.length).toBeGreaterThanOrEqual(5);
    const listSchema = async () => {
      const constraints = await driver.executeQuery('SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names');
      const indexes = await driver.executeQuery("SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN collect(name) AS names");
      return {
        constraints: (constraints.records[0]!.get('names') as string[]).sort(),
        indexes: (indexes.records[0]!.get('names') as string[]).sort(),
      };
    };
    expect((await listSchema()).constraints).toEqual([]);
    await migrate(driver, settings);
    const first = await listSchema();
    expect(first.constraints).toEqual(['entity_id', 'import_state_id', 'team_id']);
    expect(first.indexes).toEqual(expect.arrayContaining(['entity_id', 'team_id', 'host_source', 'resource_host', 'depends_on_host']));
    expect(first.indexes).not.toContain('entity_source');
    await migrate(driver, settings);
    expect(await listSchema()).toEqual(first);
  });

  it('makes entity ids unique across labels, so one host is one vertex', async () => {
    await migrate(driver, settings);
    await driver.executeQuery("CREATE (:Entity:Host {id: 'db1.example.com'})");
    await expect(driver.executeQuery("CREATE (:Entity:Service {id: 'db1.example.com'})")).rejects.toThrow(/already exists/);
    const count = await driver.executeQuery("MATCH (e:Entity {id: 'db1.example.com'}) RETURN count(e) AS n");
    expect(count.records[0]!.get('n')).toBe(1);
  });
});
