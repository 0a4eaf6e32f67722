import { createHash } from 'node:crypto';
import type { Driver, ManagedTransaction } from 'neo4j-driver';
import type { Neo4jSettings } from './neo4j.ts';
import type { DependencyRow, HostFactsRow, HostGraph, MembershipRow, SharedGraph, TeamRow } from './model.ts';

/**
 * Writes importer output into Neo4j. One host's subgraph is one transaction (a failure leaves that host as it
 * was); every list is written with one `UNWIND` statement; what the host declared before and no longer does is
 * removed, scoped by the `host` stamp so nothing another host declared is touched.
 */

export interface Stamp {
  source: string;
  generation: number;
}

export interface WriteResult {
  /** False when the host's content was unchanged since its last import (nothing written). */
  written: boolean;
  resources: number;
  dependencies: number;
}

export async function writeHost(driver: Driver, settings: Neo4jSettings, graph: HostGraph, stamp: Stamp): Promise<WriteResult> {
  const digest = digestOf(graph);
  const counts = { resources: graph.resources.length, dependencies: graph.dependencies.length };
  const session = driver.session({ ...(settings.database ? { database: settings.database } : {}) });
  try {
    return await session.executeWrite(async (tx) => {
      const previous = await tx.run(
        'MATCH (h:Host {id: $certname}) RETURN h.digest AS digest, h.managed AS managed, h.source AS source',
        { certname: graph.certname },
      );
      const row = previous.records[0];
      if (row && row.get('digest') === digest && row.get('managed') === true && row.get('source') === stamp.source) {
        return { written: false, ...counts };
      }
      await writeHostVertex(tx, graph, digest, stamp);
      await writeDeclarations(tx, graph, graph.certname, stamp);
      await removeStale(tx, graph.certname, stamp);
      return { written: true, ...counts };
    });
  } finally {
    await session.close();
  }
}

/**
 * Services, groups, teams and links that belong to no host (native topology files), declared by `owner` (the
 * file they came from). Like a host: one transaction, skipped when unchanged, and what `owner` declared before
 * but no longer does is removed.
 */
export async function writeShared(driver: Driver, settings: Neo4jSettings, shared: SharedGraph, owner: string, stamp: Stamp): Promise<boolean> {
  const digest = createHash('sha256').update(JSON.stringify(shared)).digest('hex');
  const session = driver.session({ ...(settings.database ? { database: settings.database } : {}) });
  try {
    return await session.executeWrite(async (tx) => {
      const previous = await tx.run('MATCH (s:ImportState {id: $owner}) RETURN s.digest AS digest', { owner });
      if (previous.records[0]?.get('digest') === digest) return false;
      await writeDeclarations(tx, { ...shared, resources: [] }, owner, stamp);
      await removeStaleRelations(tx, owner, stamp);
      await tx.run('MERGE (s:ImportState {id: $owner}) SET s.digest = $digest, s.source = $source, s.generation = $generation', { owner, digest, ...stamp });
      return true;
    });
  } finally {
    await session.close();
  }
}

/**
 * A host's facts (one transaction): set over what the host has, so a catalog import and a facts import can
 * come in either order. An owner derived from facts is an OWNED_BY relation declared by `facts:<certname>`,
 * replaced by the next facts import of that host.
 */
export async function writeFacts(driver: Driver, settings: Neo4jSettings, row: HostFactsRow, stamp: Stamp): Promise<void> {
  const owner = `facts:${row.certname}`;
  const session = driver.session({ ...(settings.database ? { database: settings.database } : {}) });
  try {
    await session.executeWrite(async (tx) => {
      await tx.run(
        `MERGE (h:Entity {id: $certname})
         SET h:Host, h += $facts, h.name = $certname, h.managed = coalesce(h.managed, true),
             h.factsSource = $source, h.factsGeneration = $generation`,
        { certname: row.certname, facts: stripUndefined(row.facts), ...stamp },
      );
      await tx.run(
        `UNWIND $owned AS o
         MATCH (h:Host {id: $certname})
         MERGE (t:Team {id: o})
         ON CREATE SET t.name = substring(o, 5), t.contacts = [], t.source = $source, t.generation = $generation
         MERGE (h)-[r:OWNED_BY]->(t)
         SET r.host = $owner, r.source = $source, r.generation = $generation`,
        { certname: row.certname, owned: row.owner ? [row.owner] : [], owner, ...stamp },
      );
      await removeStaleRelations(tx, owner, stamp);
    });
  } finally {
    await session.close();
  }
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * After a full import of `source`: its hosts that the import did not contain become `managed: false` (kept, so
 * what depends on them can be reported). Returns their certnames.
 */
export async function markAbsentHosts(driver: Driver, settings: Neo4jSettings, source: string, present: string[]): Promise<string[]> {
  const result = await driver.executeQuery(
    `MATCH (h:Host {source: $source})
     WHERE h.managed = true AND NOT h.id IN $present
     SET h.managed = false, h.digest = null
     WITH h
     OPTIONAL MATCH (r:Resource {host: h.id})
     SET r.managed = false
     RETURN DISTINCT h.id AS id ORDER BY id`,
    { source, present },
    { ...(settings.database ? { database: settings.database } : {}) },
  );
  return result.records.map((r) => r.get('id') as string);
}

async function writeHostVertex(tx: ManagedTransaction, graph: HostGraph, digest: string, stamp: Stamp): Promise<void> {
  await tx.run(
    `MERGE (h:Entity {id: $certname})
     SET h:Host, h += $facts, h.name = $certname, h.managed = true, h.critical = $critical, h.checks = $checks,
         h.digest = $digest, h.source = $source, h.generation = $generation`,
    {
      certname: graph.certname,
      facts: stripUndefined(graph.facts),
      critical: graph.critical ?? false,
      checks: graph.checks ?? [],
      digest,
      ...stamp,
    },
  );
  await tx.run(
    `MATCH (h:Host {id: $certname})
     UNWIND $resources AS r
     MERGE (e:Entity {id: r.id})
     SET e:Resource, e.name = r.type + '[' + r.title + ']', e.type = r.type, e.title = r.title, e.host = $certname,
         e.managed = true, e.critical = coalesce(r.critical, false), e.checks = coalesce(r.checks, []),
         e.source = $source, e.generation = $generation
     MERGE (e)-[o:RUNS_ON]->(h)
     SET o.host = $certname, o.source = $source, o.generation = $generation`,
    { certname: graph.certname, resources: graph.resources, ...stamp },
  );
}

interface Declarations extends SharedGraph {
  owner?: string;
  certname?: string;
  resources: HostGraph['resources'];
}

async function writeDeclarations(tx: ManagedTransaction, d: Declarations, host: string, stamp: Stamp): Promise<void> {
  const params = { host, ...stamp };
  await tx.run(
    `UNWIND $teams AS t
     MERGE (team:Team {id: t.id})
     SET team.name = t.name, team.source = $source, team.generation = $generation,
         team.contacts = CASE WHEN size(t.contacts) > 0 THEN t.contacts ELSE coalesce(team.contacts, []) END`,
    { teams: d.teams satisfies TeamRow[], ...params },
  );
  await tx.run(
    `UNWIND $services AS s
     MERGE (e:Entity {id: s.id})
     SET e:Service, e.name = s.name, e.tier = toInteger(coalesce(s.tier, e.tier)), e.critical = coalesce(s.critical, e.critical, false),
         e.managed = true, e.source = $source, e.generation = $generation`,
    { services: d.services, ...params },
  );
  await tx.run(
    `UNWIND $groups AS g
     MERGE (e:Entity {id: g.id})
     SET e:Group, e.name = g.name, e.kind = g.kind, e.minHealthy = toInteger(coalesce(g.minHealthy, e.minHealthy, 1)),
         e.managed = true, e.source = $source, e.generation = $generation`,
    { groups: d.groups, ...params },
  );
  const owned = [
    ...(d.owner && d.certname ? [{ entity: d.certname, team: d.owner }] : []),
    ...d.resources.flatMap((r) => (r.owner ? [{ entity: r.id, team: r.owner }] : [])),
    ...d.services.flatMap((s) => (s.owner ? [{ entity: s.id, team: s.owner }] : [])),
  ];
  await tx.run(
    `UNWIND $owned AS o
     MATCH (e:Entity {id: o.entity})
     MERGE (t:Team {id: o.team})
     ON CREATE SET t.name = substring(o.team, 5), t.contacts = [], t.source = $source, t.generation = $generation
     MERGE (e)-[r:OWNED_BY]->(t)
     SET r.host = $host, r.source = $source, r.generation = $generation`,
    { owned, ...params },
  );
  await tx.run(
    `UNWIND $dependencies AS d
     MERGE (a:Entity {id: d.from})
     ON CREATE SET a.managed = false
     MERGE (b:Entity {id: d.to})
     ON CREATE SET b.managed = false
     MERGE (a)-[r:DEPENDS_ON]->(b)
     SET r.kind = d.kind, r.origin = d.origin, r.host = CASE WHEN d.shared THEN '' ELSE $host END,
         r.source = $source, r.generation = $generation`,
    { dependencies: mergeDependencies(d.dependencies), ...params },
  );
  await tx.run(
    `UNWIND $memberships AS m
     MERGE (g:Entity {id: m.group})
     ON CREATE SET g:Group, g.name = substring(m.group, 6), g.minHealthy = 1, g.managed = true
     MERGE (e:Entity {id: m.member})
     ON CREATE SET e.managed = false
     MERGE (g)-[r:HAS_MEMBER]->(e)
     SET r.host = $host, r.source = $source, r.generation = $generation`,
    { memberships: uniqueMemberships(d.memberships), ...params },
  );
}

/** Relations `owner` (a certname or a file) declared in an earlier import but not in this one. */
async function removeStaleRelations(tx: ManagedTransaction, owner: string, stamp: Stamp): Promise<void> {
  for (const type of ['DEPENDS_ON', 'HAS_MEMBER', 'OWNED_BY', 'RUNS_ON'] as const) {
    // -- safe: the relation type comes from the constant list above, never from input.
    await tx.run(`MATCH ()-[r:${type} {host: $owner}]->() WHERE r.generation <> $generation DELETE r`, {
      owner,
      generation: stamp.generation,
    });
  }
}

/** What this host declared before and no longer does: relations, and resources gone from its catalog. */
async function removeStale(tx: ManagedTransaction, certname: string, stamp: Stamp): Promise<void> {
  await removeStaleRelations(tx, certname, stamp);
  // A resource gone from the catalog disappears, unless another host still depends on it: then it stays,
  // unmanaged, so the dangling dependency can be reported.
  await tx.run(
    `MATCH (e:Resource {host: $certname})
     WHERE e.generation <> $generation
     OPTIONAL MATCH (other)-[:DEPENDS_ON]->(e)
     WITH e, count(other) AS dependents
     FOREACH (_ IN CASE WHEN dependents = 0 THEN [1] ELSE [] END | DETACH DELETE e)
     FOREACH (_ IN CASE WHEN dependents > 0 THEN [1] ELSE [] END | SET e.managed = false)`,
    { certname, generation: stamp.generation },
  );
}

/** One relation per (from, to): a hard declaration wins over a soft one; origins are joined. */
export function mergeDependencies(rows: DependencyRow[]): DependencyRow[] {
  const byPair = new Map<string, DependencyRow>();
  for (const row of rows) {
    if (row.from === row.to) continue; // a self-loop (PuppetDB has them) says nothing about failure
    const key = `${row.from}\u0000${row.to}`;
    const seen = byPair.get(key);
    if (!seen) {
      byPair.set(key, { ...row });
      continue;
    }
    if (row.kind === 'hard') seen.kind = 'hard';
    if (!seen.origin.split(',').includes(row.origin)) seen.origin = `${seen.origin},${row.origin}`;
  }
  return [...byPair.values()];
}

function uniqueMemberships(rows: MembershipRow[]): MembershipRow[] {
  const seen = new Set<string>();
  return rows.filter((m) => {
    const key = `${m.group}\u0000${m.member}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function digestOf(graph: HostGraph): string {
  return createHash('sha256').update(JSON.stringify(graph)).digest('hex');
}
