import type { Driver } from '../../src/graph/neo4j.ts';
import type { TopologyInput } from '../../src/engine/index.ts';

/**
 * Writes engine rows (a TopologyInput) into an empty Neo4j the way the loader shapes an import: `:Entity` plus
 * the kind's label, `managed`, `host` on resources, `tier`, `minHealthy`, and DEPENDS_ON {kind}, RUNS_ON,
 * HAS_MEMBER, OWNED_BY. An entity with `managed: false` and no kind label stands for a placeholder when
 * `placeholders` names it. Lets a test build graphs the importers cannot express (minHealthy 0, cycles of
 * groups, random graphs) and compare a Cypher rule with the engine on them.
 */
export async function writeTopology(driver: Driver, input: TopologyInput, placeholders: ReadonlySet<string> = new Set()): Promise<void> {
  const label = { host: 'Host', resource: 'Resource', service: 'Service', group: 'Group' } as const;
  for (const kind of Object.keys(label) as (keyof typeof label)[]) {
    const rows = input.entities
      .filter((e) => e.kind === kind && !placeholders.has(e.id))
      .map((e) => ({
        id: e.id,
        props: {
          name: e.name,
          managed: e.managed,
          ...(e.host !== undefined ? { host: e.host } : {}),
          ...(e.tier !== undefined ? { tier: e.tier } : {}),
          ...(e.minHealthy !== undefined ? { minHealthy: e.minHealthy } : kind === 'group' ? { minHealthy: 1 } : {}),
          ...(e.critical !== undefined ? { critical: e.critical } : {}),
        },
      }));
    // -- safe: the label comes from the constant map above.
    await driver.executeQuery(`UNWIND $rows AS r CREATE (e:Entity:${label[kind]} {id: r.id}) SET e += r.props`, { rows });
  }
  await driver.executeQuery('UNWIND $ids AS id CREATE (:Entity {id: id, managed: false})', { ids: [...placeholders] });
  const ensure = 'MERGE (a:Entity {id: r.a}) ON CREATE SET a.managed = false MERGE (b:Entity {id: r.b}) ON CREATE SET b.managed = false';
  await driver.executeQuery(`UNWIND $rows AS r ${ensure} CREATE (a)-[:DEPENDS_ON {kind: r.kind}]->(b)`, {
    rows: input.dependencies.map((d) => ({ a: d.from, b: d.to, kind: d.kind })),
  });
  await driver.executeQuery(`UNWIND $rows AS r ${ensure} CREATE (a)-[:RUNS_ON]->(b)`, { rows: input.runsOn.map((r) => ({ a: r.resource, b: r.host })) });
  await driver.executeQuery(`UNWIND $rows AS r ${ensure} CREATE (a)-[:HAS_MEMBER]->(b)`, { rows: input.members.map((m) => ({ a: m.group, b: m.member })) });
  await driver.executeQuery('UNWIND $rows AS t CREATE (:Team {id: t.id, name: t.name, contacts: t.contacts})', { rows: input.teams });
  await driver.executeQuery('UNWIND $rows AS r MATCH (e:Entity {id: r.e}) MERGE (t:Team {id: r.t}) CREATE (e)-[:OWNED_BY]->(t)', {
    rows: input.entities.flatMap((e) => e.owners.map((t) => ({ e: e.id, t }))),
  });
}
