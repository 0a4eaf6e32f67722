import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { puppetSource } from '../importers/puppet/index.ts';
import { runImport } from '../importers/run.ts';
import type { HostGraph } from '../src/graph/model.ts';
import { writeTransaction, type Driver, type WriteTx } from '../src/graph/neo4j.ts';
import { createLogger } from '../src/log.ts';
import { benchServices, rssMb, wipe } from './services.ts';

/**
 * `npm run bench -- import --hosts 1000 [--resources 300] [--concurrency 4] [--warmup 2]`: a synthetic estate
 * written as PuppetDB wire-format catalogs (about 300 resources per host, intra-host require/before chains,
 * cross-node capabilities, soft dependencies, owners and services), imported through the real
 * `faultline import puppet` pipeline; then the same vertices and edges written by a raw `UNWIND ... CREATE` into an
 * emptied database as the baseline. Both are timed after `--warmup` untimed rounds of both on 300 hosts.
 */
export async function run(args: Record<string, string>): Promise<Record<string, unknown>> {
  const hostCount = Number(args.hosts ?? 1000);
  const perHost = Number(args.resources ?? 300);
  const concurrency = Number(args.concurrency ?? 4);
  const log = createLogger('error');
  const { config, neo4j, nats } = await benchServices();

  const dir = mkdtempSync(join(tmpdir(), 'faultline-bench-import-'));
  try {
    const catalogs = writeCatalogs(join(dir, 'catalogs'), hostCount, perHost);
    process.stderr.write(`bench import: ${hostCount} catalogs of ${perHost} resources written to ${catalogs}\n`);

    // Neo4j's JIT needs a few hundred thousand rows before it runs at speed: untimed rounds of both writers on a
    // smaller estate first, so that neither side is measured on a cold JVM (the import, measured first, would be).
    const warmHosts = Math.min(300, hostCount);
    const warmRounds = Number(args.warmup ?? 2);
    const warm = writeCatalogs(join(dir, 'warmup'), warmHosts, perHost);
    const warmRows = await transformed(warmHosts, perHost);
    for (let round = 0; round < warmRounds; round++) {
      const started = performance.now();
      await wipe(neo4j, config.neo4j);
      await runImport(puppetSource, [warm], { concurrency }, log, { neo4j, settings: config.neo4j });
      await wipe(neo4j, config.neo4j);
      await rawCreate(neo4j, warmRows, concurrency);
      process.stderr.write(`bench import: warm-up round ${round + 1} of ${warmRounds} (${warmHosts} hosts, both writers) ${Math.round(performance.now() - started) / 1000} s\n`);
    }

    await wipe(neo4j, config.neo4j);
    const summary = await runImport(puppetSource, [catalogs], { concurrency }, log, { neo4j, settings: config.neo4j, nats });
    if (summary.failedFiles || summary.failedHosts) throw new Error(`the import failed: ${JSON.stringify(summary)}`);
    const imported = await counts(neo4j);
    process.stderr.write(`bench import: faultline import ${summary.seconds} s (${JSON.stringify(imported)})\n`);

    // The baseline writes exactly what the import wrote, from the same transformed rows.
    const rows = await transformed(hostCount, perHost);
    await wipe(neo4j, config.neo4j);
    const baselineSeconds = await rawCreate(neo4j, rows, concurrency);
    const baseline = await counts(neo4j);
    process.stderr.write(`bench import: raw UNWIND CREATE ${baselineSeconds} s (${JSON.stringify(baseline)})\n`);

    return {
      bench: 'import',
      hosts: hostCount,
      resources: summary.resources,
      dependencies: imported.dependsOn,
      seconds: summary.seconds,
      resourcesPerSecond: Math.round(summary.resources / summary.seconds),
      baselineSeconds,
      ratio: Math.round((summary.seconds / baselineSeconds) * 100) / 100,
      concurrency,
      warmupRounds: warmRounds,
      rssMb: rssMb(),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await nats.close();
    await neo4j.close();
  }
}

const hostName = (h: number) => `node${String(h).padStart(5, '0')}.bench.example.com`;

/** An estate of `hostCount` synthetic catalogs, one file each, in `dir` (created); returns `dir`. */
function writeCatalogs(dir: string, hostCount: number, perHost: number): string {
  mkdirSync(dir);
  for (let h = 0; h < hostCount; h++) writeFileSync(join(dir, `${hostName(h)}.json`), JSON.stringify(syntheticCatalog(h, hostCount, perHost)));
  return dir;
}

/** The same estate as the importer's transform makes it: what the baseline writes. */
async function transformed(hostCount: number, perHost: number): Promise<HostGraph[]> {
  const catalogs = Array.from({ length: hostCount }, (_, h) => syntheticCatalog(h, hostCount, perHost));
  return (await puppetSource.read({ name: 'all', read: () => Buffer.from(JSON.stringify(catalogs)) })).hosts;
}

/** One host: packages, config files, services and execs in dependency chains, plus faultline declarations. */
export function syntheticCatalog(h: number, hostCount: number, perHost: number) {
  const certname = hostName(h);
  const resources: { type: string; title: string; exported: boolean; parameters: Record<string, unknown> }[] = [
    { type: 'Stage', title: 'main', exported: false, parameters: {} },
    { type: 'Class', title: 'main', exported: false, parameters: {} },
  ];
  const units = Math.floor((perHost - 2 - 6) / 3);
  for (let u = 0; u < units; u++) {
    resources.push({ type: 'Package', title: `pkg-${u}`, exported: false, parameters: { ensure: 'installed' } });
    resources.push({ type: 'File', title: `/etc/app-${u}/config`, exported: false, parameters: { ensure: 'file', require: `Package[pkg-${u}]`, notify: `Service[svc-${u}]` } });
    resources.push({ type: 'Service', title: `svc-${u}`, exported: false, parameters: { ensure: 'running', require: u > 0 ? [`Package[pkg-${u}]`, `Service[svc-${u - 1}]`] : `Package[pkg-${u}]` } });
  }
  // Every tenth host is a database that provides its cluster's capability; the others consume it.
  const cluster = Math.floor(h / 10);
  const isDb = h % 10 === 0 || h % 10 === 1;
  const declarations = [
    isDb
      ? { type: 'Faultline::Provides', title: `db-${cluster}`, exported: false, parameters: { resource: 'Service[svc-0]' } }
      : { type: 'Faultline::Consumes', title: `db-${cluster}`, exported: false, parameters: { from: 'Service[svc-1]', kind: 'hard' } },
    { type: 'Faultline::Depends', title: 'logging', exported: false, parameters: { from: 'Service[svc-2]', on: `${hostName((h + 1) % hostCount)}::Service[svc-0]`, kind: 'soft' } },
    { type: 'Faultline::Owner', title: `team-${cluster % 20}`, exported: false, parameters: { contacts: [`email:team-${cluster % 20}@example.com`] } },
    { type: 'Faultline::Check', title: 'svc0', exported: false, parameters: { resource: 'Service[svc-0]' } },
    { type: 'Faultline::Service', title: `app-${cluster}`, exported: false, parameters: { tier: cluster % 3, owner: `team-${cluster % 20}`, resource: 'Service[svc-3]' } },
  ];
  resources.push(...declarations);
  return { certname, environment: 'production', producer_timestamp: '2026-11-21T00:00:00Z', resources, edges: [] };
}

/** The baseline: the same vertices and edges, CREATEd with UNWIND, one transaction per host. */
async function rawCreate(driver: Driver, hosts: HostGraph[], concurrency: number): Promise<number> {
  const started = performance.now();
  // Shared vertices (teams, groups, services) first, once, as a bulk loader would.
  const shared = new Map<string, { id: string; label: string }>();
  for (const host of hosts) {
    for (const t of host.teams) shared.set(t.id, { id: t.id, label: 'Team' });
    for (const g of host.groups) shared.set(g.id, { id: g.id, label: 'Group' });
    for (const s of host.services) shared.set(s.id, { id: s.id, label: 'Service' });
  }
  const session = driver.session();
  await session.executeWrite((tx) =>
    tx.run(
      `UNWIND $rows AS row
       CALL (row) {
         WITH row WHERE row.label = 'Team' CREATE (:Team {id: row.id})
         UNION
         WITH row WHERE row.label <> 'Team' CREATE (:Entity {id: row.id, kind: row.label})
       }`,
      { rows: [...shared.values()] },
    ),
  );
  await session.executeWrite((tx) => tx.run('UNWIND $ids AS id CREATE (:Entity:Host {id: id})', { ids: hosts.map((h) => h.certname) }));
  await session.close();
  // Vertices of every host first, then the relations between them (cross-host ones need both ends).
  await perHost(driver, hosts, concurrency, (tx, host) =>
    tx.run(
      `MATCH (h:Entity {id: $certname})
       UNWIND $resources AS r
       CREATE (e:Entity:Resource {id: r.id, type: r.type, title: r.title})
       CREATE (e)-[:RUNS_ON]->(h)`,
      { certname: host.certname, resources: host.resources.map((r) => ({ id: r.id, type: r.type, title: r.title })) },
    ),
  );
  await perHost(driver, hosts, concurrency, async (tx, host) => {
    await tx.run(
      `UNWIND $edges AS d
       MATCH (a:Entity {id: d.from})
       MATCH (b:Entity {id: d.to})
       CREATE (a)-[:DEPENDS_ON {kind: d.kind}]->(b)`,
      { edges: host.dependencies },
    );
    await tx.run(
      `UNWIND $rows AS m
       MATCH (g:Entity {id: m.group})
       MATCH (e:Entity {id: m.member})
       CREATE (g)-[:HAS_MEMBER]->(e)`,
      { rows: host.memberships },
    );
  });
  return Math.round((performance.now() - started) / 10) / 100;
}

async function perHost(driver: Driver, hosts: HostGraph[], concurrency: number, work: (tx: WriteTx, host: HostGraph) => Promise<unknown>) {
  let next = 0;
  const worker = async () => {
    while (next < hosts.length) {
      const host = hosts[next++]!;
      // The import's own retry policy (retried at once on a deadlock), so both sides are treated alike.
      await writeTransaction(driver, {}, (tx) => work(tx, host));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function counts(driver: Driver) {
  const result = await driver.executeQuery(
    `CALL () { MATCH (r:Resource) RETURN count(r) AS resources }
     CALL () { MATCH ()-[d:DEPENDS_ON]->() RETURN count(d) AS dependsOn }
     CALL () { MATCH ()-[m:HAS_MEMBER]->() RETURN count(m) AS members }
     RETURN resources, dependsOn, members`,
  );
  return result.records[0]!.toObject() as { resources: number; dependsOn: number; members: number };
}
