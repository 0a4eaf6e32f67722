import type { Driver } from '../../src/graph/neo4j.ts';

/** `from -> to` for every DEPENDS_ON (with its kind), sorted: the shape integration tests compare. */
export async function dependencyTuples(driver: Driver): Promise<string[]> {
  const result = await driver.executeQuery('MATCH (a)-[r:DEPENDS_ON]->(b) RETURN a.id AS a, r.kind AS kind, b.id AS b');
  return result.records.map((r) => `${r.get('a')} -${r.get('kind')}-> ${r.get('b')}`).sort();
}

export async function memberTuples(driver: Driver): Promise<string[]> {
  const result = await driver.executeQuery('MATCH (g:Group)-[:HAS_MEMBER]->(m) RETURN g.id AS g, m.id AS m');
  return result.records.map((r) => `${r.get('g')} > ${r.get('m')}`).sort();
}

/** Every vertex and relation with all properties, sorted: equal snapshots mean the import changed nothing. */
export async function snapshot(driver: Driver): Promise<string[]> {
  const nodes = await driver.executeQuery('MATCH (n) RETURN labels(n) AS labels, properties(n) AS props');
  const rels = await driver.executeQuery('MATCH (a)-[r]->(b) RETURN a.id AS a, type(r) AS type, properties(r) AS props, b.id AS b');
  return [
    ...nodes.records.map((r) => JSON.stringify([[...(r.get('labels') as string[])].sort(), sortKeys(r.get('props'))])),
    ...rels.records.map((r) => JSON.stringify([r.get('a'), r.get('type'), sortKeys(r.get('props')), r.get('b')])),
  ].sort();
}

function sortKeys(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b)));
}
