import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { puppetSource } from '../../importers/puppet/index.ts';
import type { FileReading } from '../../importers/source.ts';
import type { HostGraph } from '../../src/graph/model.ts';
import { corpusFiles, corpusPath } from '../support/corpus.ts';

/**
 * Conformance: every catalog of ../shared/corpus (41, in eight envelopes) reads, with the oddities its
 * INDEX.md lists. Facts files are the facts importer's; here they must be refused with a reason.
 */

const read = (relativePath: string): Promise<FileReading> =>
  Promise.resolve(puppetSource.read({ name: relativePath, read: () => readFileSync(corpusPath(relativePath)) }));

async function hostOf(relativePath: string): Promise<HostGraph> {
  const reading = await read(relativePath);
  expect(reading.problems, relativePath).toEqual([]);
  expect(reading.hosts).toHaveLength(1);
  return reading.hosts[0]!;
}

/** The host with ids made relative to it, so the same catalog under two certnames compares equal. */
function shape(graph: HostGraph) {
  const local = (id: string) => id.replace(`${graph.certname}::`, '');
  return {
    resources: graph.resources.map((r) => local(r.id)).sort(),
    dependencies: graph.dependencies.map((d) => `${local(d.from)} -> ${local(d.to)}`).sort(),
  };
}

const catalogFiles = () => corpusFiles().filter((f) => /\/catalogs?\/|catalog.*\.(json|pson)$|\.pson$/.test(f) && !/\/facts\//.test(f));
const factsFiles = () => corpusFiles().filter((f) => /\/facts\//.test(f) || /test\.local\.yaml$/.test(f));

describe('Puppet catalog corpus', () => {
  it('reads every one of the 41 catalogs without a problem', async () => {
    const files = catalogFiles();
    expect(files).toHaveLength(41);
    for (const file of files) {
      const reading = await read(file);
      expect(reading.problems, file).toEqual([]);
      expect(reading.hosts.length, file).toBeGreaterThanOrEqual(1);
    }
  });

  it('refuses facts files with a reason instead of importing them as catalogs', async () => {
    const files = factsFiles().filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const reading = await read(file);
      expect(reading.hosts, file).toEqual([]);
      expect(reading.problems[0]?.message, file).toMatch(/not a Puppet catalog/);
    }
  });

  it('reads the same catalog identically in all seven PuppetDB wire formats (v1 to v6)', async () => {
    const versions = ['@c95143625c/test-resources/com/puppetlabs/puppetdb/test/cli/export', '@6b3c2c58ba/test-resources/com/puppetlabs/puppetdb/test/cli/export', '@432dd02d68/test-resources/com/puppetlabs/puppetdb/test/cli/export', '@dd8d22c38c/test-resources/com/puppetlabs/puppetdb/test/cli/export', '@d450d429fc/test-resources/puppetlabs/puppetdb/cli/export', '@fde50cbdb7/test-resources/puppetlabs/puppetdb/cli/export', '@df30d19811/test-resources/puppetlabs/puppetdb/cli/export'];
    const graphs = await Promise.all(versions.map((v) => hostOf(`puppetdb/${v}/big-catalog.json`)));
    expect(new Set(graphs.map((g) => g.certname))).toEqual(new Set(['myhost.localdomain']));
    const first = shape(graphs[0]!);
    expect(first.resources).toHaveLength(416);
    // Its edges are containment only; the dependencies come from the ~175 relationship parameters.
    expect(first.dependencies.length).toBeGreaterThan(150);
    for (const graph of graphs.slice(1)) expect(shape(graph)).toEqual(first);
  });

  it('reads the tiny catalog identically as wire v1, a v6 command, v7 and v8, and catalog-1 as Puppet 3, Puppet 4 and PuppetDB-expanded', async () => {
    const tiny = await Promise.all(
      ['@c95143625c/test-resources/com/puppetlabs/puppetdb/test/cli/export', '@031d633a0c/test-resources/puppetlabs/puppetdb/cli/export', '@a823ddd3bc/test-resources/puppetlabs/puppetdb/cli/export', 'test-resources/puppetlabs/puppetdb/cli/export'].map((v) => hostOf(`puppetdb/${v}/tiny-catalog.json`)),
    );
    for (const graph of tiny.slice(1)) expect(shape(graph)).toEqual(shape(tiny[0]!));
    const oc = 'octocatalog-diff/spec/octocatalog-diff/fixtures/catalogs';
    const one = await Promise.all(['catalog-1.json', 'catalog-1-v4.json', 'catalog-1-puppetdb.json'].map((f) => hostOf(`${oc}/${f}`)));
    for (const graph of one.slice(1)) expect(shape(graph)).toEqual(shape(one[0]!));
    expect(shape(await hostOf(`${oc}/default-catalog-v3.json`))).toEqual(shape(await hostOf(`${oc}/default-catalog-v4.json`)));
  });

  it('turns require parameters and required-by edges into the same dependency, and drops the self-loop', async () => {
    const v9 = await hostOf('puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/host-0.json');
    const v6 = await hostOf('puppetdb/@9280b6c228/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/host-0.json');
    expect(shape(v9)).toEqual(shape(v6));
    const deps = shape(v9).dependencies;
    expect(deps).toContain('File[authn_file.load] -> Package[httpd]');
    expect(deps).toContain('File[authn_file.load] -> Exec[mkdir /etc/apache2/mods-available]');
    expect(deps.filter((d) => d.startsWith('Anchor[ntp::end] -> Anchor[ntp::end]'))).toEqual([]);
    expect(v9.dependencies.every((d) => d.kind === 'hard')).toBe(true);
  });

  it('keeps titles with brackets verbatim and resolves class references whatever their case', async () => {
    const pe = await hostOf('puppet/benchmarks/serialization/catalog.json');
    expect(pe.certname).toBe('agent.demo.com');
    const ids = pe.resources.map((r) => r.id);
    expect(ids).toContain('agent.demo.com::Augeas[fileserver.conf remove [files]]');
    expect(ids).toContain('agent.demo.com::Pe_ini_setting[[database]-puppetdb_psdatabase_username]');
    const wikimedia = await hostOf('puppet-compiler/tests/fixtures/catalog.pson');
    expect(wikimedia.dependencies.some((d) => d.to.endsWith('::Class[Profile::Base::Certificates]'))).toBe(true);
  });

  it('reports references to resources a catalog lacks, and non-references, as warnings naming the JSON path', async () => {
    const reading = await read('octocatalog-diff/spec/octocatalog-diff/fixtures/catalogs/catalog-1.json');
    const messages = reading.warnings.map((w) => `${w.path}: ${w.message}`);
    expect(messages).toContain('$.data.resources[22].parameters.require[3]: "Something old" is not a Type[title] reference');
    expect(messages.some((m) => m.endsWith('Anchor[github::xyzclass::stage_1] is not in this catalog'))).toBe(true);
  });

  it('leaves out exported resources: the host that collects them applies them', async () => {
    const synthetic = await hostOf('puppetdb/resources/puppetlabs/puppetdb/generate/realistic/catalogs/host-gumozu-2-1a66541e7b9b051d8c7991d8a00eea4ed394bdaf.json');
    expect(synthetic.resources).toHaveLength(801 - 403);
  });

  it('splits PuppetDB export rows by certname and decodes their JSON-string parameters', async () => {
    const reading = await read('puppetdb/test-resources/puppetlabs/puppetdb/cli/export/catalog-query-rows.json');
    expect(reading.problems).toEqual([]);
    expect(reading.hosts.map((h) => h.certname).sort()).toEqual(['desktop.localdomain', 'myfakehostname']);
  });
});

describe('PuppetDB query API answers saved to a file', () => {
  it('reads edges in the flattened form the query API writes (source_type, source_title, ...)', async () => {
    const wire = JSON.parse(readFileSync(corpusPath('puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/host-0.json'), 'utf8')) as {
      edges: { source: { type: string; title: string }; target: { type: string; title: string }; relationship: string }[];
      resources: unknown[];
    };
    const answer = [{
      ...wire,
      resources: { data: wire.resources, href: '/pdb/query/v4/catalogs/host-0/resources' },
      edges: {
        data: wire.edges.map((e) => ({ source_type: e.source.type, source_title: e.source.title, target_type: e.target.type, target_title: e.target.title, relationship: e.relationship })),
        href: '/pdb/query/v4/catalogs/host-0/edges',
      },
    }];
    const reading = await puppetSource.read({ name: 'answer.json', read: () => Buffer.from(JSON.stringify(answer)) });
    expect(reading.problems).toEqual([]);
    expect(shape(reading.hosts[0]!)).toEqual(shape(await hostOf('puppetdb/resources/puppetlabs/puppetdb/benchmark/samples/catalogs/host-0.json')));
  });
});
