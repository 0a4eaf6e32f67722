import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFactsSource } from '../../importers/facts/index.ts';
import { puppetSource } from '../../importers/puppet/index.ts';
import { createPuppetdbSource } from '../../importers/puppetdb/index.ts';
import { runImport, type ImportSummary } from '../../importers/run.ts';
import { SUBJECTS } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { runCli } from '../support/cli.ts';
import { corpusPath } from '../support/corpus.ts';
import { dependencyTuples, memberTuples } from '../support/graph.ts';
import {
  deleteAllNodes, query, startTestPuppetdb, submitCommand, toWireFormat, waitFor, waitForCatalogs, waitForFactsets, type TestPuppetdb,
} from '../support/puppetdb.ts';
import { freshGraph, freshNats, silentLog, testConfig, testEnv } from '../support/services.ts';

/**
 * `faultline import puppetdb URL` against a real PuppetDB (Debian's puppetdb 7, started by src/stack/puppetdb.ts):
 * the estate of test/fixtures/puppet (compiled by real Puppet, converted to wire format v9 as the PuppetDB
 * terminus does) and three catalogs of PuppetDB's own benchmark samples (wire format v9 already) are submitted
 * through the command API with their facts; the import must give the graph that importing the same catalogs and
 * facts from files gives.
 */

const CATALOGS = join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'catalogs');
const FACTS = join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'facts', 'find', 'mail1.example.com.json');
const BENCHMARK = ['host-0', 'host-1', 'host-2'].map((h) => `puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/${h}.json`);

/** What the comparisons look at: every vertex and relation that the catalogs and facts declare, as sets of ids. */
async function graphSets(driver: Driver) {
  const rows = async (cypher: string) => (await driver.executeQuery(cypher)).records.map((r) => r.get('x') as string).sort();
  return {
    hosts: await rows(
      "MATCH (h:Host) RETURN h.id + ' ' + toString(h.managed) + ' env=' + coalesce(h.environment, '-') + ' loc=' + coalesce(h.location, '-') + ' rack=' + coalesce(h.rack, '-') + ' os=' + coalesce(h.os, '-') AS x",
    ),
    classes: await rows("MATCH (h:Host) RETURN h.id + ' ' + reduce(s = '', c IN coalesce(h.classes, []) | s + c + ',') AS x"),
    resources: await rows('MATCH (r:Resource) RETURN r.id AS x'),
    dependencies: await dependencyTuples(driver),
    members: await memberTuples(driver),
    owners: await rows("MATCH (e)-[:OWNED_BY]->(t:Team) RETURN e.id + ' > ' + t.id AS x"),
    services: await rows("MATCH (s:Service) RETURN s.id + ' tier=' + coalesce(toString(s.tier), '-') AS x"),
    groups: await rows("MATCH (g:Group) RETURN g.id + ' min=' + toString(g.minHealthy) AS x"),
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe('faultline import puppetdb, against a real PuppetDB', () => {
  let pdb: TestPuppetdb;
  let driver: Driver;
  let nats: NatsConnection;
  let factsDir: string;
  const certnames: string[] = [];
  const settings = () => testConfig().neo4j;
  const mapping = () => testConfig().facts;
  const targets = () => ({ neo4j: driver, settings: settings(), nats });

  beforeAll(async () => {
    const started = performance.now();
    pdb = await startTestPuppetdb();
    console.info(`PuppetDB ready at ${pdb.url} after ${((performance.now() - started) / 1000).toFixed(1)} s`);
    nats = await freshNats();
    await deleteAllNodes(pdb.url);

    const submitted = performance.now();
    const now = new Date().toISOString();
    const catalogs = new Map<string, string>();
    const facts = new Map<string, string>();
    const wires = [
      ...readdirSync(CATALOGS).sort().map((file) => toWireFormat(JSON.parse(readFileSync(join(CATALOGS, file), 'utf8')), now)),
      // Already wire format v9; `hash` is what `puppet db export` adds, not part of the command.
      ...BENCHMARK.map((path) => {
        const { hash: _hash, ...wire } = JSON.parse(readFileSync(corpusPath(path), 'utf8')) as Record<string, unknown> & { certname: string; catalog_uuid: string };
        return { ...wire, producer_timestamp: now };
      }),
    ];
    const base = JSON.parse(readFileSync(FACTS, 'utf8')) as { values: Record<string, unknown> };
    factsDir = mkdtempSync(join(tmpdir(), 'faultline-pdb-facts-'));
    for (const [i, wire] of wires.entries()) {
      await submitCommand(pdb.url, 'replace_catalog', 9, wire.certname, wire);
      catalogs.set(wire.certname, wire.catalog_uuid);
      certnames.push(wire.certname);
      // Facts wire format v5, as the terminus sends them; the same document is kept as a file to compare with.
      const payload = {
        certname: wire.certname,
        environment: 'production',
        producer_timestamp: now,
        producer: 'puppet.example.com',
        values: { ...base.values, clientcert: wire.certname, fqdn: wire.certname, location: `dc${(i % 2) + 1}`, rack: `r${i}` },
      };
      await submitCommand(pdb.url, 'replace_facts', 5, wire.certname, payload);
      facts.set(wire.certname, now);
      writeFileSync(join(factsDir, `${wire.certname}.json`), JSON.stringify(payload));
    }
    await waitForCatalogs(pdb.url, catalogs);
    await waitForFactsets(pdb.url, facts);
    console.info(`${wires.length} catalogs and factsets submitted and processed in ${((performance.now() - submitted) / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await driver?.close();
    await nats?.close();
    await pdb?.stop();
  });

  const fresh = async () => {
    await driver?.close();
    driver = await freshGraph();
  };

  it('gives the hosts, resources, dependencies and facts that importing the same catalogs and facts from files gives', async () => {
    await fresh();
    const fromFiles = await runImport(puppetSource, [CATALOGS, ...BENCHMARK.map(corpusPath)], {}, silentLog, targets());
    await runImport(createFactsSource(mapping()), [factsDir], {}, silentLog, targets());
    const expected = await graphSets(driver);
    expect(expected.hosts).toHaveLength(14);
    expect(expected.dependencies.length).toBeGreaterThan(100);

    await fresh();
    const announced = nats.subscribe(SUBJECTS.topologyChanged, { max: 1 });
    // Pages of 4 nodes: 14 nodes make 4 pages, each one query for catalogs and one for factsets.
    const summary = await runImport(createPuppetdbSource(mapping(), { pageSize: 4 }), [pdb.url], {}, silentLog, targets());
    expect(summary).toMatchObject<Partial<ImportSummary>>({
      source: 'puppetdb', files: 4, failedFiles: 0, hosts: 14, written: 14, failedHosts: 0,
      resources: fromFiles.resources, edges: fromFiles.edges, warnings: fromFiles.warnings,
    });
    for await (const msg of announced) expect(msg.json()).toMatchObject({ source: 'puppetdb', hosts: 14, written: 14 });

    const actual = await graphSets(driver);
    expect(actual).toEqual(expected);
    // Spot checks of what the sets hold: a cross-node capability, a facts-derived location, PuppetDB's own edges.
    expect(actual.dependencies).toContain('mail1.example.com::Service[exim4] -hard-> group:capability:mysql-greylist');
    expect(actual.hosts).toContain('mail1.example.com true env=production loc=dc1 rack=r4 os=Debian GNU/Linux 12 (bookworm)');
    expect(actual.dependencies.filter((d) => d.startsWith('host-0::'))).not.toHaveLength(0);
  });

  it('via the CLI: a dry run writes nothing, an import writes the estate, a re-import leaves the catalogs as they were', async () => {
    await fresh();
    const dry = await runCli(['import', 'puppetdb', pdb.url, '--dry-run'], testEnv());
    expect(dry.stderr).toBe('');
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^validated \(dry run, nothing written\): 14 hosts, \d+ resources/);
    expect((await driver.executeQuery('MATCH (n) RETURN count(n) AS n')).records[0]!.get('n')).toBe(0);

    const first = await runCli(['import', 'puppetdb', `${pdb.url}/`], testEnv());
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/^imported from puppetdb: 14 hosts, \d+ resources, \d+ edges, 0 warnings, 14 written, 0 unchanged/);
    const generations = async () =>
      (await driver.executeQuery('MATCH (r:Resource)-[o:RUNS_ON]->(h:Host) RETURN h.id AS h, h.digest AS d, collect(DISTINCT o.generation) AS g ORDER BY h')).records.map((r) => JSON.stringify(r.toObject()));
    const before = await generations();
    expect(before).toHaveLength(14);

    // Facts are written on every import (as `faultline import facts` does); the catalogs are not written again.
    const again = await runCli(['import', 'puppetdb', pdb.url], testEnv());
    expect(again.code).toBe(0);
    expect(await generations()).toEqual(before);
  });

  it('names the URL when PuppetDB cannot be reached or the URL is not a PuppetDB, and writes nothing', async () => {
    await fresh();
    const closed = `http://127.0.0.1:${await freePort()}`;
    const refused = await runCli(['import', 'puppetdb', closed], testEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`cannot query PuppetDB at ${closed}/pdb/query/v4/nodes: connection refused`);

    await expect(runImport(createPuppetdbSource(mapping()), [`${pdb.url}/no-such-prefix`], {}, silentLog, targets())).rejects.toThrow(
      `PuppetDB at ${pdb.url}/no-such-prefix/pdb/query/v4/nodes answered 404 Not Found`,
    );
    const secret = await runCli(['import', 'puppetdb', 'http://admin:s3cret@127.0.0.1:1'], testEnv());
    expect(secret.code).toBe(1);
    expect(`${secret.stdout}${secret.stderr}`).not.toContain('s3cret');
    expect((await driver.executeQuery('MATCH (n) RETURN count(n) AS n')).records[0]!.get('n')).toBe(0);
  });

  it('--full: a node deactivated in PuppetDB becomes managed: false, the others stay', async () => {
    await fresh();
    expect((await runImport(createPuppetdbSource(mapping()), [pdb.url], {}, silentLog, targets())).hosts).toBe(14);

    const gone = 'lb1.example.com';
    await submitCommand(pdb.url, 'deactivate_node', 3, gone, { certname: gone, producer_timestamp: new Date().toISOString() });
    await waitFor(`the deactivation of ${gone}`, async () => {
      const nodes = (await query(pdb.url, 'nodes', { query: ['extract', ['certname']] })) as { certname: string }[];
      return nodes.some((n) => n.certname === gone) ? [gone] : [];
    });

    const full = await runCli(['import', 'puppetdb', pdb.url, '--full'], testEnv());
    expect(full.code).toBe(0);
    expect(full.stdout).toMatch(/13 hosts.* 1 now unmanaged/);
    const managed = await driver.executeQuery('MATCH (h:Host) RETURN h.id AS id, h.managed AS managed ORDER BY id');
    expect(managed.records.filter((r) => r.get('managed') === false).map((r) => r.get('id'))).toEqual([gone]);
    expect(managed.records.filter((r) => r.get('managed') === true)).toHaveLength(13);
  });
});
