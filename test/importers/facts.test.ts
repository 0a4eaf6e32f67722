import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { detectFacts } from '../../importers/facts/detect.ts';
import { createFactsSource, readFacts } from '../../importers/facts/index.ts';
import { parseFacts } from '../../importers/facts/parse.ts';
import { sourcesFor } from '../../importers/index.ts';
import { formatProblem } from '../../importers/problems.ts';
import { runImport } from '../../importers/run.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { configSchema, type FactsMapping } from '../../src/config/schema.ts';
import { writeHost } from '../../src/graph/load.ts';
import type { HostFactsRow, HostGraph } from '../../src/graph/model.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { runCli } from '../support/cli.ts';
import { corpusFiles, corpusPath } from '../support/corpus.ts';
import { freshGraphEachTest, silentLog, testConfig, testEnv } from '../support/services.ts';

const defaults = (): FactsMapping => configSchema.parse({}).facts;

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'faultline-facts-')), name);
  writeFileSync(file, text);
  return file;
}

const readText = (name: string, text: string, mapping = defaults()) => readFacts({ name, read: () => Buffer.from(text) }, mapping);
const readPath = (path: string, mapping = defaults()) => readFacts({ name: path, read: () => readFileSync(path) }, mapping);
const problemsOf = (reading: ReturnType<typeof readFacts>) => reading.problems.map(formatProblem);

/** What each facts file of ../shared/corpus (INDEX.md, "Facts (18)") must yield with the default mapping. */
const CORPUS_FACTS: { file: string; format: string; row: HostFactsRow }[] = [
  { file: 'octocatalog-diff/spec/octocatalog-diff/fixtures/facts/facts.yaml', format: 'puppet-node-facts', row: { certname: 'rspec-node.xyz.github.net', facts: { location: 'xyz' } } },
  { file: 'octocatalog-diff/spec/octocatalog-diff/fixtures/facts/valid-facts.yaml', format: 'puppet-node-facts', row: { certname: 'rspec-node.xyz.github.net', facts: { location: 'xyz' } } },
  { file: 'octocatalog-diff/spec/octocatalog-diff/fixtures/facts/fact-overrides-datatypes.yaml', format: 'puppet-node-facts', row: { certname: 'rspec-node.xyz.github.net', facts: { location: 'xyz' } } },
  { file: 'octocatalog-diff/spec/octocatalog-diff/fixtures/facts/facts_esc.yaml', format: 'puppet-node-facts', row: { certname: 'rspec-node.xyz.github.net', facts: { location: 'xyz' } } },
  { file: 'octocatalog-diff/spec/octocatalog-diff/fixtures/facts/unstructured.yaml', format: 'fact-hash', row: { certname: 'rspec-node.xyz.github.net', facts: { location: 'xyz' } } },
  { file: 'octocatalog-diff/spec/octocatalog-diff/fixtures/facts/facts.json', format: 'fact-hash', row: { certname: 'rspec-node.xyz.github.net', facts: { location: 'xyz' } } },
  // The document's name wins over the fqdn fact (rspec-node.xyz...).
  { file: 'octocatalog-diff/spec/octocatalog-diff/fixtures/facts/encoded-facts.json', format: 'puppet-node-facts', row: { certname: 'rspec-node.abc.github.net', facts: { location: 'xyz' } } },
  {
    file: 'puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/facts/pg1.vm.json',
    format: 'puppetdb-wire',
    row: { certname: 'pg1.vm', facts: { environment: 'production', os: 'Debian GNU/Linux testing (jessie)' } },
  },
  {
    file: 'puppetdb/@df585ffe7d/acceptance/benchmark/facts/pg1.vm.json',
    format: 'puppetdb-wire',
    row: { certname: 'pg1.vm', facts: { environment: 'production', os: 'Debian GNU/Linux testing (jessie)' } },
  },
  {
    file: 'puppetdb/resources/puppetlabs/puppetdb/generate/samples/facts/baseline-agent-node.json',
    format: 'puppetdb-wire',
    row: { certname: 'baseline-agent-node.sample.nodes', facts: { environment: 'production', os: 'Rocky Linux release 8.7 (Green Obsidian)' } },
  },
  // Synthetic: its clientcert, trusted.certname and fqdn facts are random; the document's certname wins.
  {
    file: 'puppetdb/resources/puppetlabs/puppetdb/generate/realistic/facts/host-gumozu-2.json',
    format: 'puppetdb-wire',
    row: { certname: 'host-gumozu-2', facts: { environment: 'production', os: 'Rocky Linux release 8.7 (Green Obsidian)' } },
  },
  { file: 'puppet/spec/fixtures/yaml/test.local.yaml', format: 'puppet-node-facts', row: { certname: 'test.local', facts: { environment: 'production' } } },
  {
    file: 'octofacts/spec/fixtures/facts/basic.yaml',
    format: 'fact-hash',
    row: { certname: 'somenode.example.net', facts: { location: 'ec2', az: 'us-east-1a', os: 'Debian GNU/Linux 8.8 (jessie)' } },
  },
  {
    file: 'foreman/test/static_fixtures/facts/facts.json',
    format: 'foreman',
    row: { certname: 'sinn1636.lan', facts: { os: 'Red Hat Enterprise Linux Server release 6.2 (Santiago)' } },
  },
  { file: 'foreman/test/static_fixtures/facts/example_4.0.52.json', format: 'fact-hash', row: { certname: 'localhost.localdomain', facts: { os: 'Fedora release 30 (Thirty)' } } },
  { file: 'foreman/test/static_fixtures/facts/example_3.14.16.json', format: 'fact-hash', row: { certname: 'foreman-nuc2.example.com', facts: { os: 'CentOS 7.9.2009' } } },
  { file: 'foreman/test/static_fixtures/facts/puppet_facts_windows_10.json', format: 'fact-hash', row: { certname: 'client.ad', facts: { os: 'Windows 10 Education' } } },
  { file: 'foreman/test/static_fixtures/facts/solaris10.json', format: 'fact-hash', row: { certname: 'labhost1.localdomain', facts: { os: 'Solaris 10_u9' } } },
];

/** Rows without `cleared` (which kept facts were looked for and absent; its own test covers it). */
const withoutCleared = ({ cleared: _cleared, ...row }: HostFactsRow) => row;

describe('facts conformance: the 18 facts files of ../shared/corpus', () => {
  it('expects exactly the files INDEX.md lists under "Facts (18)"', () => {
    const index = readFileSync(corpusPath('INDEX.md'), 'utf8');
    const table = index.slice(index.indexOf('## Facts (18)'), index.indexOf('## Oddities'));
    const listed = [...table.matchAll(/^\| \d+ \| `([^`]+)`/gm)].map((m) => m[1]);
    expect(listed).toHaveLength(18);
    expect([...listed].sort()).toEqual(CORPUS_FACTS.map((c) => c.file).sort());
  });

  it.each(CORPUS_FACTS)('$file → $row.certname ($format)', ({ file, format, row }) => {
    const path = corpusPath(file);
    const reading = readPath(path);
    expect(problemsOf(reading)).toEqual([]);
    expect(reading.warnings).toEqual([]);
    expect(reading.hosts).toEqual([]);
    expect(reading.facts?.map(withoutCleared)).toEqual([row]);

    const parsed = parseFacts({ name: path, read: () => readFileSync(path) });
    if (!parsed.ok) throw new Error('unreachable: it parsed above');
    const detection = detectFacts(parsed.documents[0]!.value);
    expect(detection.ok && detection.hosts.map((h) => h.format)).toEqual([format]);
  });

  it('tolerates the Ruby tags and reads unquoted YAML timestamps as timestamps', () => {
    const path = corpusPath('puppet/spec/fixtures/yaml/test.local.yaml');
    const parsed = parseFacts({ name: path, read: () => readFileSync(path) });
    expect(parsed.ok).toBe(true);
    const doc = parsed.ok ? (parsed.documents[0]!.value as { expiration: unknown; values: Record<string, unknown> }) : undefined;
    expect(doc?.expiration).toBeInstanceOf(Date);
    expect(doc?.values._timestamp).toBe('Mon Jun 07 18:45:36 -0700 2010'); // the !ruby/sym key is a plain key
    // A timestamp chosen as a kept fact becomes ISO text.
    const reading = readPath(corpusPath('octocatalog-diff/spec/octocatalog-diff/fixtures/facts/facts.yaml'), { ...defaults(), rack: ['_timestamp'] });
    expect(reading.facts?.[0]?.facts.rack).toBe('2014-12-02T20:56:20.865Z');
  });

  it('refuses a catalog of the corpus with the reason, naming the file', () => {
    const path = corpusPath('octocatalog-diff/spec/octocatalog-diff/fixtures/catalogs/catalog-1.json');
    expect(problemsOf(readPath(path))).toEqual([`${path}:1: $: not a facts document: this is a Puppet catalog (it has resources); import it with \`faultline import puppet\``]);
    const wire = corpusPath('puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/host-0.json');
    expect(problemsOf(readPath(wire))[0]).toContain('not a facts document: this is a Puppet catalog');
  });

  it('refuses every other file of the corpus (catalogs in all their envelopes, query rows) as not facts, with a reason', () => {
    const facts = new Set(CORPUS_FACTS.map((c) => c.file));
    const others = corpusFiles().filter((f) => !facts.has(f));
    expect(others).toHaveLength(41);
    for (const file of others) {
      const reading = readPath(corpusPath(file));
      expect(reading.facts, file).toEqual([]);
      expect(reading.problems, file).toHaveLength(1);
      expect(reading.problems[0]!.message, file).toMatch(/^not a facts document: (this is a Puppet catalog|this is a PuppetDB "replace catalog" command|a list of \d+ entries, none of them facts)/);
    }
  });
});

describe('facts formats beyond the corpus', () => {
  it('reads a PuppetDB factsets answer: a list, facts as {data, href} or as a map, environment beside the facts', () => {
    const reading = readText('factsets.json', JSON.stringify([
      {
        certname: 'db1.example.com', environment: 'production', timestamp: '2024-05-01T10:00:00Z', producer: 'puppet.example.com', hash: 'abc',
        facts: {
          href: '/pdb/query/v4/factsets/db1.example.com/facts',
          data: [
            { name: 'rack', value: 'r12' },
            { name: 'ec2_metadata', value: { placement: { 'availability-zone': 'eu-west-1b' } } },
            { name: 'owner', value: 'dba' },
            { name: 'os', value: { name: 'Debian', release: { full: '12.4' } } },
          ],
        },
      },
      { certname: 'db2.example.com', environment: 'staging', facts: { team: 'web', datacenter: 'fra1', gce: { instance: { zone: 'projects/123/zones/europe-west3-b' } } } },
    ]));
    expect(problemsOf(reading)).toEqual([]);
    expect(reading.facts?.map(withoutCleared)).toEqual([
      { certname: 'db1.example.com', facts: { environment: 'production', rack: 'r12', az: 'eu-west-1b', os: 'Debian 12.4' }, owner: 'team:dba' },
      { certname: 'db2.example.com', facts: { environment: 'staging', location: 'fra1', az: 'europe-west3-b' }, owner: 'team:web' },
    ]);
  });

  it('reads the facts wire format in a PuppetDB command, /pdb/query/v4/facts rows, and multi-document YAML', () => {
    const command = readText('cmd.json', JSON.stringify({ command: 'replace facts', version: 5, payload: { certname: 'c.example.com', environment: 'prod', values: { rack: 4 }, producer_timestamp: '2024-05-01' } }));
    expect(command.facts?.map(withoutCleared)).toEqual([{ certname: 'c.example.com', facts: { environment: 'prod', rack: '4' } }]);

    const rows = readText('rows.json', JSON.stringify([
      { certname: 'a.example.com', environment: 'production', name: 'location', value: 'ams' },
      { certname: 'b.example.com', environment: 'test', name: 'kernel', value: 'Linux' },
      { certname: 'a.example.com', environment: 'production', name: 'is_virtual', value: true },
      { certname: 'a.example.com', environment: 'production', name: 'rack', value: 7 },
    ]));
    expect(rows.facts?.map(withoutCleared)).toEqual([
      { certname: 'a.example.com', facts: { environment: 'production', location: 'ams', rack: '7' } },
      { certname: 'b.example.com', facts: { environment: 'test' } },
    ]);

    const stream = readText('many.yaml', '---\nclientcert: one.example.com\nlocation: a\n--- !ruby/hash:ActiveSupport::HashWithIndifferentAccess\nnetworking: { fqdn: Two.Example.COM }\nrack: !ruby/object:Weird 3\n');
    expect(problemsOf(stream)).toEqual([]);
    expect(stream.facts?.map(withoutCleared)).toEqual([
      { certname: 'one.example.com', facts: { location: 'a' } },
      { certname: 'two.example.com', facts: { rack: '3' } }, // a certname from the facts is lower-cased, as Puppet does
    ]);
  });

  it('takes the kept facts from where the configuration says, first present wins, owner as a team', () => {
    const config = testConfig({
      facts: {
        location: ['site.name', 'datacenter'],
        az: ['placement.zone'],
        owner: ['trusted.extensions.pp_department'],
        classes: ['roles'],
        os: ['kernel + kernelrelease'],
      },
    });
    const source = sourcesFor(config).facts!;
    const text = JSON.stringify({
      certname: 'w1.example.com',
      values: {
        site: { code: 'x' }, datacenter: 'dc2', placement: { zone: 'z1' }, kernel: 'Linux', kernelrelease: '6.1.0',
        trusted: { extensions: { pp_department: 'web-team' } }, roles: ['nginx', 'shop::app'], environment: 'production',
      },
    });
    const reading = source.read({ name: 'w1.json', read: () => Buffer.from(text) });
    if (reading instanceof Promise) throw new Error('the facts source reads synchronously');
    expect(reading.facts?.map(withoutCleared)).toEqual([
      {
        certname: 'w1.example.com',
        facts: { environment: 'production', location: 'dc2', az: 'z1', os: 'Linux 6.1.0', classes: ['nginx', 'shop::app'] },
        owner: 'team:web-team',
      },
    ]);
    // A candidate that is a map where one value is wanted is a warning, naming the path and (for JSON) the line.
    const mapped = readText('w.yaml', 'clientcert: w2.example.com\nlocation:\n  name: x\ndatacenter: dc1\n');
    expect(mapped.facts?.map(withoutCleared)).toEqual([{ certname: 'w2.example.com', facts: { location: 'dc1' } }]);
    expect(mapped.warnings.map(formatProblem)).toEqual(['w.yaml:3: $.location: fact location is a map, not one value: not used for location']);
    expect(createFactsSource(defaults()).name).toBe('facts');
  });

  it('validates the facts: configuration section strictly, with defaults', () => {
    const config = configSchema.parse({});
    expect(config.facts.az).toEqual(['az', 'ec2_metadata.placement.availability-zone', 'ec2_placement_availability_zone', 'gce.instance.zone', 'azure_metadata.compute.zone']);
    expect(config.facts.owner).toEqual(['owner', 'team']);
    expect(config.facts.classes).toEqual([]);
    expect(configSchema.parse({ facts: { rack: ['cmdb.rack'] } }).facts).toMatchObject({ rack: ['cmdb.rack'], location: ['location', 'datacenter', 'dc', 'trusted.extensions.pp_datacenter'] });
    const unknown = configSchema.safeParse({ facts: { racks: ['rack'] } });
    expect(unknown.success).toBe(false);
    expect(unknown.error?.issues[0]).toMatchObject({ code: 'unrecognized_keys', keys: ['racks'], path: ['facts'] });
    const bad = configSchema.safeParse({ facts: { az: ['ec2..zone'] } });
    expect(bad.error?.issues[0]?.message).toBe('expected a dotted fact path like os.distro.description (or paths joined by +), got "ec2..zone"');
  });
});

describe('facts: bad input is a problem naming the file and the path, never an exception', () => {
  it('names file, line and JSON path', () => {
    expect(problemsOf(readText('n.yaml', '--- !ruby/object:Puppet::Node::Facts\nname: 12\nvalues:\n  fqdn: x\n'))).toEqual([
      'n.yaml:2: $.name: the certname must be text, found a number',
    ]);
    expect(problemsOf(readText('s.json', '[\n  {"certname": "ok.example.com", "facts": {"data": [\n    {"name": "a", "value": 1},\n    {"value": 2}\n  ]}}\n]'))).toEqual([
      "s.json:4: $[0].facts.data[1].name: the fact's name is missing",
    ]);
    expect(problemsOf(readText('v.json', '{"certname": "x.example.com", "values": ["a"]}'))).toEqual(['v.json:1: $.values: expected a map of fact names to values, found a list']);
    expect(problemsOf(readText('h.json', '{"certname": "x.example.com", "facts": {"href": "/pdb/query/v4/factsets/x/facts"}}'))).toEqual([
      'h.json:1: $.facts: the facts were not included, only a link to them (/pdb/query/v4/factsets/x/facts); query PuppetDB for factsets with their facts',
    ]);
    expect(problemsOf(readText('y.yaml', 'fqdn: [a, b\nkernel: Linux\n'))[0]).toMatch(/^y\.yaml:2: \$: invalid YAML: /);
  });

  it('a host with no certname is a problem; one bad host makes the whole file bad', () => {
    const reading = readText('two.yaml', '---\nclientcert: good.example.com\n---\nkernel: Linux\nos: { family: Debian }\n');
    expect(reading.facts).toEqual([]);
    expect(problemsOf(reading)).toEqual([
      'two.yaml:4: $: document 2: no certname: the document names no host and none of the facts clientcert, trusted.certname, networking.fqdn, fqdn is set',
    ]);
  });

  it('rejects what is not facts at all, with the reason', () => {
    expect(problemsOf(readText('empty.json', '  \n'))).toEqual(['empty.json: $: not a facts document: the file is empty']);
    expect(problemsOf(readText('text.txt', 'just some words'))).toEqual(['text.txt:1: $: not a facts document: expected a map of facts or a facts envelope, found a string ("just some words")']);
    expect(problemsOf(readText('other.yaml', 'hello: world\nfoo: 1\n'))).toEqual([
      'other.yaml:1: $: not a facts document: a map with none of the facts Facter writes (facterversion, fqdn, os, networking, kernel, ...) and no facts envelope ({certname|name, values} or {certname|name, facts}); its keys: hello, foo',
    ]);
    expect(problemsOf(readText('estate.yaml', 'teams: {}\nhosts:\n  a.example.com: {}\n'))).toEqual([
      'estate.yaml:1: $: not a facts document: this is a native topology file; import it with `faultline import native`',
    ]);
    expect(problemsOf(readText('cmd.json', '{"command": "store report", "version": 8, "payload": {}}'))).toEqual(['cmd.json:1: $: not a facts document: this is a PuppetDB "store report" command']);
    expect(problemsOf(readText('list.json', '[{"certname": "a.example.com", "values": {}}, 42]'))).toEqual(['list.json:1: $[1]: not a facts document: expected a map of facts or a facts envelope, found a number']);
    // An empty PuppetDB answer is no hosts, not an error.
    expect(readText('none.json', '[]')).toMatchObject({ facts: [], problems: [] });
  });

  it('never throws, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.json(), fc.string(), fc.jsonValue().map((v) => JSON.stringify({ certname: 'x.example.com', values: v }))), (text) => {
        const reading = readText('fuzz.json', text);
        expect(Array.isArray(reading.problems) && Array.isArray(reading.facts)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});

describe('facts import into a real Neo4j', () => {
  let driver: Driver;
  let nats: NatsConnection;
  const settings = () => testConfig().neo4j;
  const factsSource = () => sourcesFor(testConfig()).facts!;
  const importFacts = (paths: string[], options = {}) => runImport(factsSource(), paths, options, silentLog, { neo4j: driver, settings: settings(), nats });

  const catalog: HostGraph = {
    certname: 'db1.example.com',
    facts: { classes: ['mysql::server'] },
    resources: [
      { id: 'db1.example.com::Service[mysqld]', type: 'Service', title: 'mysqld' },
      { id: 'db1.example.com::Package[mysql-server]', type: 'Package', title: 'mysql-server' },
    ],
    dependencies: [{ from: 'db1.example.com::Service[mysqld]', to: 'db1.example.com::Package[mysql-server]', kind: 'hard', origin: 'require' }],
    memberships: [],
    teams: [],
    services: [],
    groups: [],
  };
  const structure = async () => {
    const result = await driver.executeQuery(
      `MATCH (a)-[r]->(b) WHERE type(r) <> 'OWNED_BY' RETURN a.id + ' -' + type(r) + '-> ' + b.id AS rel, properties(r) AS props ORDER BY rel`,
    );
    const resources = await driver.executeQuery('MATCH (r:Resource) RETURN r.id AS id, properties(r) AS props ORDER BY id');
    return JSON.stringify([result.records.map((r) => r.toObject()), resources.records.map((r) => r.toObject())]);
  };
  const hostOf = async (id: string) => {
    const result = await driver.executeQuery('MATCH (h:Host {id: $id}) OPTIONAL MATCH (h)-[:OWNED_BY]->(t:Team) RETURN properties(h) AS h, collect(t.id) AS teams', { id });
    return result.records[0]?.toObject() as { h: Record<string, unknown>; teams: string[] } | undefined;
  };

  freshGraphEachTest((d, n) => {
    driver = d;
    nats = n;
  });

  it('puts the facts on a host that has resources, leaving its resources and dependencies as they were', async () => {
    await writeHost(driver, settings(), catalog, { source: 'puppet', generation: 1 });
    const before = await structure();
    const file = tempFile('db1.yaml', '--- !ruby/object:Puppet::Node::Facts\nname: db1.example.com\nvalues:\n  environment: production\n  datacenter: ams1\n  rack: r12\n  ec2_metadata: { placement: { availability-zone: eu-west-1a } }\n  os: { distro: { description: "Debian GNU/Linux 12 (bookworm)" } }\n  owner: dba\n');
    const summary = await importFacts([file]);
    expect(summary).toMatchObject({ source: 'facts', files: 1, failedFiles: 0, hosts: 1, written: 1, failedHosts: 0, resources: 0, edges: 0 });

    const host = await hostOf('db1.example.com');
    expect(host?.h).toMatchObject({
      environment: 'production', location: 'ams1', rack: 'r12', az: 'eu-west-1a', os: 'Debian GNU/Linux 12 (bookworm)',
      classes: ['mysql::server'], source: 'puppet', managed: true, factsSource: 'facts',
    });
    expect(host?.teams).toEqual(['team:dba']);
    expect(await structure()).toBe(before);
  });

  it('owner from facts is (:Host)-[:OWNED_BY]->(:Team), replaced by the next facts import', async () => {
    await writeHost(driver, settings(), catalog, { source: 'puppet', generation: 1 });
    const first = await importFacts([tempFile('db1.json', JSON.stringify({ certname: 'db1.example.com', values: { owner: 'dba', rack: 'r1' } }))]);
    expect(first.written).toBe(1);
    const team = await driver.executeQuery("MATCH (:Host {id: 'db1.example.com'})-[r:OWNED_BY]->(t:Team {id: 'team:dba'}) RETURN t.name AS name, r.host AS host, r.source AS source");
    expect(team.records.map((r) => r.toObject())).toEqual([{ name: 'dba', host: 'facts:db1.example.com', source: 'facts' }]);

    await new Promise((resolve) => setTimeout(resolve, 5)); // a later generation
    await importFacts([tempFile('db1.json', JSON.stringify({ certname: 'db1.example.com', values: { team: 'storage', rack: 'r2' } }))]);
    expect(await hostOf('db1.example.com')).toMatchObject({ h: { rack: 'r2' }, teams: ['team:storage'] });

    await new Promise((resolve) => setTimeout(resolve, 5));
    await importFacts([tempFile('db1.json', JSON.stringify({ certname: 'db1.example.com', values: { rack: 'r2' } }))]);
    expect((await hostOf('db1.example.com'))?.teams).toEqual([]);
    const resources = await driver.executeQuery('MATCH (r:Resource)-[:RUNS_ON]->(:Host {id: $id}) RETURN count(r) AS n', { id: 'db1.example.com' });
    expect(resources.records[0]!.get('n')).toBe(2);
  });

  it('a fact the host no longer reports (rack, az) goes from the host; the catalog\'s environment stays', async () => {
    await writeHost(driver, settings(), { ...catalog, facts: { ...catalog.facts, environment: 'production' } }, { source: 'puppet', generation: 1 });
    await importFacts([tempFile('db1.json', JSON.stringify({ certname: 'db1.example.com', values: { rack: 'r1', az: 'eu-west-1a' } }))]);
    expect((await hostOf('db1.example.com'))?.h).toMatchObject({ rack: 'r1', az: 'eu-west-1a', environment: 'production' });
    await importFacts([tempFile('db1.json', JSON.stringify({ certname: 'db1.example.com', values: { location: 'ams1' } }))]);
    const host = (await hostOf('db1.example.com'))!.h;
    expect(host).toMatchObject({ location: 'ams1', environment: 'production' });
    expect(host.rack).toBeUndefined();
    expect(host.az).toBeUndefined();
  });

  it('imports a directory of corpus facts: every host lands, a bad file is skipped whole', async () => {
    const bad = tempFile('bad.json', '{"certname": "bad.example.com", "values": ["x"]}');
    const good = corpusPath('octofacts/spec/fixtures/facts/basic.yaml');
    const summary = await importFacts([good, bad, corpusPath('puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/facts/pg1.vm.json')]);
    expect(summary).toMatchObject({ files: 3, failedFiles: 1, hosts: 2, written: 2 });
    const hosts = await driver.executeQuery('MATCH (h:Host) RETURN h.id AS id, h.az AS az, h.location AS location, h.environment AS environment ORDER BY id');
    expect(hosts.records.map((r) => r.toObject())).toEqual([
      { id: 'pg1.vm', az: null, location: null, environment: 'production' },
      { id: 'somenode.example.net', az: 'us-east-1a', location: 'ec2', environment: null },
    ]);
  });

  it('`faultline import facts FILE` prints the summary and exits 0; a file that is not facts exits 1 naming it', async () => {
    const file = tempFile('web1.json', JSON.stringify({ certname: 'web1.example.com', environment: 'production', values: { datacenter: 'fra1', owner: 'web' } }));
    const ok = await runCli(['import', 'facts', file], testEnv());
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^imported from facts: 1 hosts, 0 resources, 0 edges, 0 warnings, 1 written, 0 unchanged, [\d.]+ s\n$/);
    expect(await hostOf('web1.example.com')).toMatchObject({ h: { environment: 'production', location: 'fra1' }, teams: ['team:web'] });

    const notFacts = tempFile('catalog.json', JSON.stringify({ name: 'x.example.com', version: 1, resources: [], edges: [] }));
    const refused = await runCli(['import', 'facts', notFacts, '--log-level', 'error'], testEnv());
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${notFacts}:1: $: not a facts document: this is a Puppet catalog`);
    expect(refused.stdout).toMatch(/^imported from facts: 0 hosts, .*1 bad files/);
  });
});
