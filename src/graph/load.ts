import { createHash } from 'node:crypto';
import { writeTransaction, type Driver, type Neo4jSettings, type WriteTx } from './neo4j.ts';
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
  return writeTransaction(driver, settings, (tx) => hostInTx(tx, graph, stamp));
}

/**
 * A host's catalog and its facts in one transaction (PuppetDB gives both for a node): either both are written or,
 * on a database error, neither, so the node is never left with the new catalog and the old facts.
 */
export async function writeHostAndFacts(driver: Driver, settings: Neo4jSettings, graph: HostGraph, row: HostFactsRow, stamp: Stamp): Promise<WriteResult> {
  if (graph.certname !== row.certname) throw new Error(`writeHostAndFacts: the catalog of ${graph.certname} with the facts of ${row.certname}`);
  return writeTransaction(driver, settings, async (tx) => {
    const result = await hostInTx(tx, graph, stamp);
    await factsInTx(tx, row, stamp);
    return result;
  });
}

async function hostInTx(tx: WriteTx, graph: HostGraph, stamp: Stamp): Promise<WriteResult> {
  const digest = digestOf(graph);
  const counts = { resources: graph.resources.length, dependencies: graph.dependencies.length };
  // What the graph already holds of this host: its last import, and whether any of its entities already
  // has relations of its own (a placeholder someone declared a dependency from).
  const previous = await tx.run(
    `OPTIONAL MATCH (h:Entity {id: $certname}) WHERE h:Host
     OPTIONAL MATCH (p:Entity) WHERE (p.id = $certname OR p.id STARTS WITH $prefix) AND (p)-[:DEPENDS_ON|RUNS_ON]->()
     RETURN h IS NOT NULL AS known, h.digest AS digest, h.managed AS managed, h.source AS source, count(p) AS related`,
    { certname: graph.certname, prefix: `${graph.certname}::` },
  );
  const row = previous.records[0]!;
  const known = row.get('known') === true;
  if (known && row.get('digest') === digest && row.get('managed') === true && row.get('source') === stamp.source) {
    return { written: false, ...counts };
  }
  // A host seen for the first time, whose entities have no relations yet, can CREATE its relations instead
  // of MERGEing them (a third faster), and has nothing stale to remove.
  const fresh = !known && row.get('related') === 0;
  await writeHostGraph(tx, graph, digest, stamp, fresh);
  if (!fresh) await removeStale(tx, graph.certname, stamp);
  return { written: true, ...counts };
}

/**
 * Services, groups, teams and links that belong to no host (native topology files), declared by `owner` (the
 * file they came from). Like a host: one transaction, skipped when unchanged, and what `owner` declared before
 * but no longer does is removed.
 */
export async function writeShared(driver: Driver, settings: Neo4jSettings, shared: SharedGraph, owner: string, stamp: Stamp): Promise<boolean> {
  const digest = createHash('sha256').update(JSON.stringify(shared)).digest('hex');
  return writeTransaction(driver, settings, async (tx) => {
    const previous = await tx.run('MATCH (s:ImportState {id: $owner}) RETURN s.digest AS digest', { owner });
    if (previous.records[0]?.get('digest') === digest) return false;
    await writeDeclarations(tx, { ...shared, resources: [] }, owner, stamp);
    await removeStaleRelations(tx, owner, stamp);
    await tx.run('MERGE (s:ImportState {id: $owner}) SET s.digest = $digest, s.source = $source, s.generation = $generation', { owner, digest, ...stamp });
    return true;
  });
}

/**
 * A host's facts (one transaction): set over what the host has, so a catalog import and a facts import can
 * come in either order. An owner derived from facts is an OWNED_BY relation declared by `facts:<certname>`,
 * replaced by the next facts import of that host.
 */
export async function writeFacts(driver: Driver, settings: Neo4jSettings, row: HostFactsRow, stamp: Stamp): Promise<void> {
  await writeTransaction(driver, settings, (tx) => factsInTx(tx, row, stamp));
}

async function factsInTx(tx: WriteTx, row: HostFactsRow, stamp: Stamp): Promise<void> {
  const owner = `facts:${row.certname}`;
  await tx.run(
    `MERGE (h:Entity {id: $certname})
     SET h:Host, h += $facts, h.name = $certname, h.managed = coalesce(h.managed, true),
         h.factsSource = $source, h.factsGeneration = $generation`,
    // `+=` with null removes a property: facts the host no longer reports do not linger.
    { certname: row.certname, facts: { ...Object.fromEntries((row.cleared ?? []).map((k) => [k, null])), ...stripUndefined(row.facts) }, ...stamp },
  );
  await tx.run(
    `UNWIND $owned AS o
     MATCH (h:Entity {id: $certname})
     MERGE (t:Team {id: o})
     ON CREATE SET t.name = substring(o, 5), t.contacts = [], t.source = $source, t.generation = $generation
     MERGE (h)-[r:OWNED_BY]->(t)
     SET r.host = $owner, r.source = $source, r.generation = $generation`,
    { certname: row.certname, owned: row.owner ? [row.owner] : [], owner, ...stamp },
  );
  await removeStaleRelations(tx, owner, stamp);
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

/**
 * A host's resources and their RUNS_ON, returned as `nodes` in the order sent. `relate` is CREATE on a fresh host
 * (its relations cannot exist yet), MERGE otherwise; both arguments are constants of this file.
 */
const resourcesPiece = (list: string, relate: 'MERGE' | 'CREATE') => `CALL (h) {
    UNWIND $${list} AS r
    MERGE (e:Entity {id: r.id})
    SET e:Resource, e += $resourceStamp, e.type = r.type, e.title = r.title, e.name = r.type + '[' + r.title + ']',
        e.critical = coalesce(r.critical, false), e.checks = coalesce(r.checks, [])
    ${relate} (e)-[o:RUNS_ON]->(h)
    SET o += $stamp
    RETURN collect(e) AS nodes }`; // -- safe: constant list name and verb

/** Dependencies between two of the host's resources, as [from position, to position, kind, origin] in `nodes`. */
const localDependenciesPiece = (list: string, relate: 'MERGE' | 'CREATE') => `CALL (nodes) {
    UNWIND $${list} AS d
    WITH nodes[toInteger(d[0])] AS a, nodes[toInteger(d[1])] AS b, d
    ${relate} (a)-[r:DEPENDS_ON]->(b)
    SET r += $stamp, r.kind = d[2], r.origin = d[3] }`; // -- safe: constant list name and verb

/**
 * The write of one host (or file) is ONE statement: unit subqueries (`CALL () { UNWIND ... }`), one per list
 * that has rows, run in order. One round trip instead of eight matters more than anything else here: a host of
 * 300 resources is a few milliseconds of work and a few milliseconds per statement.
 * - A host's resources come back from their subquery as `nodes`, in the order sent, and a dependency between two
 *   of them (nearly all of a catalog's) names its ends by position in that list: no index lookup per end, and a
 *   few bytes on the wire instead of two ids.
 * - What is the same for every resource of the host (its certname, the stamp) is sent once, not per row.
 * - Shared vertices (teams, services, groups) are only written when they change, so hosts that declare the same
 *   team or group do not queue on its lock.
 * - Dependencies on other hosts' entities come before shared vertices (teams, groups): a host waiting for a
 *   resource of the host being written beside it then seldom holds a lock that host still needs (at two hosts in
 *   flight, 48 deadlocks per 300 bench hosts became none).
 */
const PIECES = {
  host: `MERGE (h:Entity {id: $certname})
    SET h:Host, h += $host`,
  resources: resourcesPiece('resources', 'MERGE'),
  freshResources: resourcesPiece('freshResources', 'CREATE'),
  localDependencies: localDependenciesPiece('localDependencies', 'MERGE'),
  freshLocalDependencies: localDependenciesPiece('freshLocalDependencies', 'CREATE'),
  freshDependencies: `CALL () {
    UNWIND $freshDependencies AS d
    MERGE (a:Entity {id: d.from})
    MERGE (b:Entity {id: d.to})
    ON CREATE SET b.managed = false, b.source = $source, b.generation = $generation
    CREATE (a)-[r:DEPENDS_ON]->(b)
    SET r += $stamp, r.kind = d.kind, r.origin = d.origin }`,
  dependencies: `CALL () {
    UNWIND $dependencies AS d
    MERGE (a:Entity {id: d.from})
    ON CREATE SET a.managed = false, a.source = $source, a.generation = $generation
    MERGE (b:Entity {id: d.to})
    ON CREATE SET b.managed = false, b.source = $source, b.generation = $generation
    MERGE (a)-[r:DEPENDS_ON]->(b)
    SET r.kind = d.kind, r.origin = d.origin, r.host = CASE WHEN d.shared THEN '' ELSE $owner END,
        r.source = $source, r.generation = $generation }`,
  teams: `CALL () {
    UNWIND $teams AS t
    MERGE (team:Team {id: t.id})
    ON CREATE SET team.name = t.name, team.contacts = t.contacts, team.source = $source, team.generation = $generation
    WITH team, t WHERE size(t.contacts) > 0 AND team.contacts <> t.contacts
    SET team.contacts = t.contacts, team.source = $source, team.generation = $generation }`,
  services: `CALL () {
    UNWIND $services AS s
    MERGE (e:Entity {id: s.id})
    ON CREATE SET e:Service, e.name = s.name, e.managed = true, e.critical = false, e.source = $source, e.generation = $generation
    WITH e, s, toInteger(coalesce(s.tier, e.tier, -1)) AS tier, coalesce(s.critical, e.critical, false) AS critical
    WHERE NOT e:Service OR coalesce(e.tier, -1) <> tier OR e.critical <> critical OR e.managed <> true
    SET e:Service, e.name = s.name, e.tier = CASE WHEN tier < 0 THEN null ELSE tier END, e.critical = critical,
        e.managed = true, e.source = $source, e.generation = $generation }`,
  groups: `CALL () {
    UNWIND $groups AS g
    MERGE (e:Entity {id: g.id})
    ON CREATE SET e:Group, e.name = g.name, e.kind = g.kind, e.minHealthy = 1, e.managed = true, e.source = $source, e.generation = $generation
    WITH e, g, toInteger(coalesce(g.minHealthy, e.minHealthy, 1)) AS minHealthy
    WHERE NOT e:Group OR e.minHealthy <> minHealthy OR e.kind IS NULL OR e.managed <> true
    SET e:Group, e.name = g.name, e.kind = coalesce(e.kind, g.kind), e.minHealthy = minHealthy, e.managed = true,
        e.source = $source, e.generation = $generation }`,
  owned: `CALL () {
    UNWIND $owned AS o
    MATCH (e:Entity {id: o.entity})
    MERGE (t:Team {id: o.team})
    ON CREATE SET t.name = substring(o.team, 5), t.contacts = [], t.source = $source, t.generation = $generation
    MERGE (e)-[r:OWNED_BY]->(t)
    SET r += $stamp }`,
  memberships: `CALL () {
    UNWIND $memberships AS m
    MERGE (g:Entity {id: m.group})
    ON CREATE SET g:Group, g.name = substring(m.group, 6), g.minHealthy = 1, g.managed = true, g.source = $source, g.generation = $generation
    MERGE (e:Entity {id: m.member})
    ON CREATE SET e.managed = false, e.source = $source, e.generation = $generation
    MERGE (g)-[r:HAS_MEMBER]->(e)
    SET r += $stamp }`,
} as const;

interface Declarations extends SharedGraph {
  owner?: string;
  certname?: string;
  resources: HostGraph['resources'];
}

/** One host's vertex, resources and declarations, in one statement. */
async function writeHostGraph(tx: WriteTx, graph: HostGraph, digest: string, stamp: Stamp, fresh: boolean): Promise<void> {
  const host = {
    ...stripUndefined(graph.facts),
    name: graph.certname,
    managed: true,
    critical: graph.critical ?? false,
    checks: graph.checks ?? [],
    digest,
    ...stamp,
  };
  await writeDeclarations(tx, graph, graph.certname, stamp, { certname: graph.certname, host, fresh });
}

/** Declarations of a host (with its vertex and resources, when `hostParams` is given) or of a file, in one statement. */
async function writeDeclarations(
  tx: WriteTx,
  d: Declarations,
  owner: string,
  stamp: Stamp,
  hostParams?: { certname: string; host: Record<string, unknown>; fresh: boolean },
): Promise<void> {
  const owned = [
    ...(d.owner && d.certname ? [{ entity: d.certname, team: d.owner }] : []),
    ...d.resources.flatMap((r) => (r.owner ? [{ entity: r.id, team: r.owner }] : [])),
    ...d.services.flatMap((s) => (s.owner ? [{ entity: s.id, team: s.owner }] : [])),
  ];
  const fresh = hostParams?.fresh === true;
  const resources = hostParams ? d.resources.map((r) => ({ id: r.id, type: r.type, title: r.title, ...(r.critical ? { critical: true } : {}), ...(r.checks?.length ? { checks: r.checks } : {}) })) : [];
  const position = new Map(resources.map((r, i) => [r.id, i]));
  const local: [number, number, string, string][] = [];
  const other: DependencyRow[] = [];
  for (const dep of mergeDependencies(d.dependencies)) {
    const from = position.get(dep.from);
    const to = position.get(dep.to);
    if (from !== undefined && to !== undefined && !dep.shared) local.push([from, to, dep.kind, dep.origin]);
    else other.push(dep);
  }
  // On a fresh host, relations from its own entities are new for certain; the rest (a service on its group,
  // declared alike by other hosts) may exist already.
  const own = (id: string) => fresh && (id === hostParams!.certname || id.startsWith(`${hostParams!.certname}::`));
  const lists = {
    ...(resources.length > 0 ? (fresh ? { freshResources: resources } : { resources }) : {}),
    ...(fresh ? { freshLocalDependencies: local } : { localDependencies: local }),
    freshDependencies: other.filter((dep) => own(dep.from) && !dep.shared),
    dependencies: other.filter((dep) => !own(dep.from) || dep.shared),
    teams: d.teams satisfies TeamRow[],
    services: d.services,
    groups: d.groups,
    owned,
    memberships: uniqueMemberships(d.memberships),
  };
  const pieces: string[] = hostParams ? [PIECES.host] : [];
  for (const [name, rows] of Object.entries(lists)) {
    if (rows.length > 0) pieces.push(PIECES[name as keyof typeof PIECES]);
  }
  if (pieces.length === 0) return;
  // A statement cannot start with a unit CALL after nothing: give the file-owned form a row to run on.
  // Cypher wants a WITH between SET and CALL, and a statement may not end with a CALL that returns (resources).
  const cypher = `${hostParams ? '' : 'WITH 1 AS one\n'}${pieces.join('\nWITH *\n')}\nRETURN true AS written`;
  const resourceStamp = hostParams ? { host: hostParams.certname, managed: true, ...stamp } : {};
  await tx.run(cypher, { ...lists, ...(hostParams ?? {}), resourceStamp, owner, stamp: { host: owner, ...stamp }, ...stamp });
}

/** Relations `owner` (a certname or a file) declared in an earlier import but not in this one. */
async function removeStaleRelations(tx: WriteTx, owner: string, stamp: Stamp): Promise<void> {
  // RUNS_ON is not among them: it goes with its resource (deleted, or kept unmanaged where still needed).
  for (const type of ['DEPENDS_ON', 'HAS_MEMBER', 'OWNED_BY'] as const) {
    // The relation type comes from the constant list above, never from input.
    await tx.run(`MATCH ()-[r:${type} {host: $owner}]->() WHERE r.generation <> $generation DELETE r`, { // -- safe: constant type
      owner,
      generation: stamp.generation,
    });
  }
}

/** What this host declared before and no longer does: relations, and resources gone from its catalog. */
async function removeStale(tx: WriteTx, certname: string, stamp: Stamp): Promise<void> {
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
