import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { puppetSource } from '../../importers/puppet/index.ts';
import { runImport } from '../../importers/run.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { SUBJECTS } from '../../src/bus/layout.ts';
import { mergeDependencies } from '../../src/graph/load.ts';
import type { HostGraph } from '../../src/graph/model.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { runCli } from '../support/cli.ts';
import { corpusFiles, corpusPath } from '../support/corpus.ts';
import { snapshot } from '../support/graph.ts';
import { freshGraphEachTest, silentLog, testConfig, testEnv } from '../support/services.ts';

const HOST0 = 'puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/host-0.json';
const HOST1 = 'puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/host-1.json';

describe('Puppet catalogs into a real Neo4j', () => {
  let driver: Driver;
  let nats: NatsConnection;
  const settings = () => testConfig().neo4j;
  const importPaths = (paths: string[], options = {}) => runImport(puppetSource, paths, options, silentLog, { neo4j: driver, settings: settings(), nats });

  freshGraphEachTest((d, n) => {
    driver = d;
    nats = n;
  });

  it('writes one node given twice in one import once: no duplicate relations, whichever file comes first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-twice-'));
    const copies = [join(dir, 'a.json'), join(dir, 'b.json')];
    for (const copy of copies) copyFileSync(corpusPath(HOST0), copy);
    const summary = await importPaths(copies);
    expect(summary).toMatchObject({ failedFiles: 0, failedHosts: 0 });
    const duplicated = await driver.executeQuery(
      `MATCH (a)-[r]->(b) WHERE a.id STARTS WITH 'host-0'
       WITH a, b, type(r) AS type, count(r) AS n WHERE n > 1 RETURN count(*) AS pairs`,
    );
    expect(duplicated.records[0]!.get('pairs')).toBe(0);
  });

  it('writes exactly the dependencies the catalog declares, fresh and on a changed re-import', async () => {
    // The loader names the ends of a dependency between two resources of one host by their position in the list
    // of resources it wrote: a wrong position would join the wrong resources.
    const read = async (path: string) => (await puppetSource.read({ name: path, read: () => readFileSync(path) })).hosts[0]!;
    const expected = (graph: HostGraph) => mergeDependencies(graph.dependencies).map((d) => `${d.from} -${d.kind}/${d.origin}-> ${d.to}`).sort();
    const written = async () =>
      (await driver.executeQuery("MATCH (a)-[r:DEPENDS_ON {host: 'host-0'}]->(b) RETURN a.id + ' -' + r.kind + '/' + r.origin + '-> ' + b.id AS d ORDER BY d")).records.map((r) => r.get('d') as string);

    const graph = await read(corpusPath(HOST0));
    expect(graph.dependencies.length).toBeGreaterThan(100);
    await importPaths([corpusPath(HOST0)]);
    expect(await written()).toEqual(expected(graph));

    // Re-import with one resource fewer at the front: every position moves by one.
    const catalog = JSON.parse(readFileSync(corpusPath(HOST0), 'utf8')) as { resources: { type: string }[] };
    const first = catalog.resources.findIndex((r) => r.type !== 'Stage' && r.type !== 'Class');
    catalog.resources.splice(first, 1);
    const changed = join(mkdtempSync(join(tmpdir(), 'faultline-shifted-')), 'host-0.json');
    writeFileSync(changed, JSON.stringify(catalog));
    await importPaths([changed]);
    expect(await written()).toEqual(expected(await read(changed)));
  });

  it('imports the whole corpus: every catalog file loads, none fails', async () => {
    const catalogs = corpusFiles().filter((f) => /\/catalogs?\/|catalog.*\.(json|pson)$|\.pson$/.test(f) && !/\/facts\//.test(f)).map(corpusPath);
    const summary = await importPaths(catalogs);
    expect(summary).toMatchObject({ files: 41, failedFiles: 0, failedHosts: 0 });
    const hosts = await driver.executeQuery('MATCH (h:Host {managed: true}) RETURN count(h) AS n');
    // Several files are the same node in other encodings, so there are fewer hosts than files.
    expect(hosts.records[0]!.get('n')).toBeGreaterThanOrEqual(15);
    const rel = await driver.executeQuery(
      "MATCH (a:Resource {id: 'host-0::File[authn_file.load]'})-[r:DEPENDS_ON]->(b) RETURN b.id AS b, r.kind AS kind ORDER BY b",
    );
    expect(rel.records.map((r) => `${r.get('kind')} ${r.get('b')}`)).toEqual(['hard host-0::Exec[mkdir /etc/apache2/mods-available]', 'hard host-0::Package[httpd]']);
  });

  it('a truncated catalog is rejected naming the file, and changes nothing of that host', async () => {
    await importPaths([corpusPath(HOST0)]);
    const before = await snapshot(driver);
    const dir = mkdtempSync(join(tmpdir(), 'faultline-puppet-'));
    const truncated = join(dir, 'host-0.json');
    const text = readFileSync(corpusPath(HOST0), 'utf8');
    writeFileSync(truncated, text.slice(0, Math.floor(text.length / 2)));

    const { code, stderr } = await runCli(['import', 'puppet', truncated, '--log-level', 'error'], testEnv());
    expect(code).toBe(1);
    expect(stderr).toContain(`${truncated}:`);
    expect(stderr).toContain('the file ends before the JSON does (truncated?)');
    expect(await snapshot(driver)).toEqual(before);
  });

  it('reads a `puppet db export` archive (.tar.gz) and announces the change on NATS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'faultline-export-'));
    mkdirSync(join(dir, 'puppetdb-bak', 'catalogs'), { recursive: true });
    copyFileSync(corpusPath(HOST0), join(dir, 'puppetdb-bak', 'catalogs', 'host-0.json'));
    copyFileSync(corpusPath(HOST1), join(dir, 'puppetdb-bak', 'catalogs', 'host-1.json'));
    writeFileSync(join(dir, 'puppetdb-bak', 'export-metadata.json'), '{"timestamp":"2026-11-21T00:00:00Z","command_versions":{}}');
    const archive = join(dir, 'export.tar.gz');
    execFileSync('tar', ['-czf', archive, '-C', dir, 'puppetdb-bak']);

    const announced = nats.subscribe(SUBJECTS.topologyChanged, { max: 1 });
    const summary = await importPaths([archive]);
    expect(summary).toMatchObject({ files: 1, hosts: 2, failedFiles: 0, written: 2 });
    for await (const msg of announced) {
      expect(msg.json()).toMatchObject({ source: 'puppet', hosts: 2, written: 2 });
    }
    const hosts = await driver.executeQuery('MATCH (h:Host) RETURN h.id AS id ORDER BY id');
    expect(hosts.records.map((r) => r.get('id'))).toEqual(['host-0', 'host-1']);
  });

  it('re-importing a catalog is a no-op; --full marks hosts it no longer has as unmanaged', async () => {
    await importPaths([corpusPath(HOST0), corpusPath(HOST1)]);
    const before = await snapshot(driver);
    expect((await importPaths([corpusPath(HOST0), corpusPath(HOST1)])).written).toBe(0);
    expect(await snapshot(driver)).toEqual(before);

    const summary = await importPaths([corpusPath(HOST0)], { full: true });
    expect(summary.unmanaged).toEqual(['host-1']);
    const host1 = await driver.executeQuery("MATCH (h:Host {id: 'host-1'}) OPTIONAL MATCH (r:Resource {host: 'host-1'}) RETURN h.managed AS managed, count(r) AS resources, sum(CASE WHEN r.managed THEN 1 ELSE 0 END) AS managedResources");
    expect(host1.records[0]!.toObject()).toEqual({ managed: false, resources: 204, managedResources: 0 });
  });
});
