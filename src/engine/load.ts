import type { Driver, Neo4jSettings } from '../graph/neo4j.ts';
import { compileTopology, PLACE_FACTS, type EntityInput, type EntityKind, type Place, type Topology, type TopologyInput } from './topology.ts';

/**
 * Neo4j → topology snapshot with ONE streaming query: every vertex and relation the engine needs comes back as
 * a row tagged with what it is (UNION ALL), and rows are folded into a TopologyInput as they arrive, so the
 * driver never buffers the whole graph.
 */
const SNAPSHOT = `
  MATCH (e:Entity)
  RETURN 'entity' AS row, e.id AS a, null AS b,
         CASE WHEN e:Host THEN 'host' WHEN e:Resource THEN 'resource' WHEN e:Service THEN 'service'
              WHEN e:Group THEN 'group' ELSE null END AS kind,
         e.name AS name, e.host AS host, e.minHealthy AS minHealthy, e.tier AS tier, e.critical AS critical,
         e.managed AS managed, e.checks AS checks, null AS contacts,
         CASE WHEN e:Host THEN {rack: e.rack, az: e.az, location: e.location} ELSE null END AS place
  UNION ALL
  MATCH (a:Entity)-[d:DEPENDS_ON]->(b:Entity)
  RETURN 'dependency' AS row, a.id AS a, b.id AS b, d.kind AS kind, null AS name, null AS host, null AS minHealthy,
         null AS tier, null AS critical, null AS managed, null AS checks, null AS contacts, null AS place
  UNION ALL
  MATCH (r:Entity)-[:RUNS_ON]->(h:Entity)
  RETURN 'runsOn' AS row, r.id AS a, h.id AS b, null AS kind, null AS name, null AS host, null AS minHealthy,
         null AS tier, null AS critical, null AS managed, null AS checks, null AS contacts, null AS place
  UNION ALL
  MATCH (g:Entity)-[:HAS_MEMBER]->(m:Entity)
  RETURN 'member' AS row, g.id AS a, m.id AS b, null AS kind, null AS name, null AS host, null AS minHealthy,
         null AS tier, null AS critical, null AS managed, null AS checks, null AS contacts, null AS place
  UNION ALL
  MATCH (e:Entity)-[:OWNED_BY]->(t:Team)
  RETURN 'owner' AS row, e.id AS a, t.id AS b, null AS kind, null AS name, null AS host, null AS minHealthy,
         null AS tier, null AS critical, null AS managed, null AS checks, null AS contacts, null AS place
  UNION ALL
  MATCH (t:Team)
  RETURN 'team' AS row, t.id AS a, null AS b, null AS kind, t.name AS name, null AS host, null AS minHealthy,
         null AS tier, null AS critical, null AS managed, null AS checks, t.contacts AS contacts, null AS place`;

interface Row {
  row: 'entity' | 'dependency' | 'runsOn' | 'member' | 'owner' | 'team';
  a: string;
  b: string | null;
  kind: string | null;
  name: string | null;
  host: string | null;
  minHealthy: number | null;
  tier: number | null;
  critical: boolean | null;
  managed: boolean | null;
  checks: string[] | null;
  contacts: string[] | null;
  place: Record<string, unknown> | null;
}

export interface LoadedTopology {
  topology: Topology;
  /** The rows it was compiled from (the copy kept in NATS is made of them). */
  input: TopologyInput;
  counts: { entities: number; dependencies: number; teams: number };
  seconds: number;
}

export async function loadTopology(driver: Driver, settings: Neo4jSettings): Promise<LoadedTopology> {
  const started = performance.now();
  const input: TopologyInput = { entities: [], dependencies: [], runsOn: [], members: [], teams: [] };
  const byId = new Map<string, EntityInput>();
  const owners: { entity: string; team: string }[] = [];
  const session = driver.session({ ...(settings.database ? { database: settings.database } : {}), defaultAccessMode: 'READ' });
  try {
    const result = session.run<Row>(SNAPSHOT);
    for await (const record of result) {
      const r = record.toObject() as Row;
      switch (r.row) {
        case 'entity': {
          const entity: EntityInput = {
            id: r.a,
            kind: (r.kind as EntityKind | null) ?? kindFromId(r.a),
            name: r.name ?? r.a,
            managed: r.managed === true,
            owners: [],
            ...(r.host ? { host: r.host } : {}),
            ...(r.minHealthy != null ? { minHealthy: Number(r.minHealthy) } : {}),
            ...(r.tier != null ? { tier: Number(r.tier) } : {}),
            ...(r.critical ? { critical: true } : {}),
            ...(r.checks && r.checks.length > 0 ? { checks: r.checks } : {}),
            ...placeOf(r.place),
          };
          byId.set(entity.id, entity);
          input.entities.push(entity);
          break;
        }
        case 'dependency':
          input.dependencies.push({ from: r.a, to: r.b!, kind: r.kind === 'soft' ? 'soft' : 'hard' });
          break;
        case 'runsOn':
          input.runsOn.push({ resource: r.a, host: r.b! });
          break;
        case 'member':
          input.members.push({ group: r.a, member: r.b! });
          break;
        case 'owner':
          owners.push({ entity: r.a, team: r.b! });
          break;
        case 'team':
          input.teams.push({ id: r.a, name: r.name ?? r.a.replace(/^team:/, ''), contacts: r.contacts ?? [] });
          break;
      }
    }
  } finally {
    await session.close();
  }
  for (const { entity, team } of owners) byId.get(entity)?.owners.push(team);
  const topology = compileTopology(input);
  return {
    topology,
    input,
    counts: { entities: input.entities.length, dependencies: input.dependencies.length + input.runsOn.length + input.members.length, teams: input.teams.length },
    seconds: Math.round((performance.now() - started) / 10) / 100,
  };
}

/** A host's place facts, those set (a fact may be a number: rack 7). */
function placeOf(row: Record<string, unknown> | null): { place?: Place } {
  if (!row) return {};
  const place: Place = {};
  for (const fact of PLACE_FACTS) {
    const value = row[fact];
    if (value !== null && value !== undefined && value !== '') place[fact] = String(value);
  }
  return Object.keys(place).length > 0 ? { place } : {};
}

/** A placeholder vertex (only ever the end of a relation) has no label: its id says what it is. */
function kindFromId(id: string): EntityKind {
  if (id.startsWith('service:')) return 'service';
  if (id.startsWith('group:')) return 'group';
  return id.includes('::') ? 'resource' : 'host';
}
