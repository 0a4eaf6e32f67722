import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTopology } from '../../src/engine/load.ts';
import { writeHost, writeHostAndFacts } from '../../src/graph/load.ts';
import type { HostGraph } from '../../src/graph/model.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { snapshot } from '../support/graph.ts';
import { freshGraph, testConfig } from '../support/services.ts';

const host = (certname: string, extra: Partial<HostGraph> = {}): HostGraph => ({
  certname,
  facts: { environment: 'production' },
  resources: [
    { id: `${certname}::Service[app]`, type: 'Service', title: 'app' },
    { id: `${certname}::Package[app]`, type: 'Package', title: 'app' },
  ],
  dependencies: [{ from: `${certname}::Service[app]`, to: `${certname}::Package[app]`, kind: 'hard', origin: 'require' }],
  memberships: [],
  teams: [],
  services: [],
  groups: [],
  ...extra,
});

describe('writing a host', () => {
  let driver: Driver;
  const settings = () => testConfig().neo4j;

  beforeAll(async () => {
    driver = await freshGraph();
  });
  afterAll(() => driver?.close());

  it('stamps every vertex it writes with source and generation, placeholders and implied groups included', async () => {
    await driver.executeQuery('MATCH (n) DETACH DELETE n');
    const declared = host('c.example.com', {
      dependencies: [
        { from: 'c.example.com::Service[app]', to: 'c.example.com::Package[app]', kind: 'hard', origin: 'require' },
        { from: 'c.example.com::Service[app]', to: 'gone.example.com::Service[api]', kind: 'hard', origin: 'faultline::depends' },
      ],
      memberships: [{ group: 'group:pool', member: 'c.example.com::Service[app]' }, { group: 'group:pool', member: 'later.example.com::Service[app]' }],
    });
    for (const generation of [1, 2]) {
      // The second write finds the placeholders there: they keep the stamp of the write that made them.
      await writeHost(driver, settings(), declared, { source: 'test', generation });
      const { records } = await driver.executeQuery('MATCH (n) RETURN n.id AS id, n.source AS source, n.generation AS generation ORDER BY id');
      const stamps = records.map((r) => r.toObject());
      expect(stamps.map((s) => s.id)).toEqual(expect.arrayContaining(['gone.example.com::Service[api]', 'group:pool', 'later.example.com::Service[app]']));
      for (const stamp of stamps) expect(stamp).toEqual({ id: stamp.id, source: 'test', generation: expect.anything() });
    }
  });

  it('a host whose write fails in the database is left exactly as it was', async () => {
    await writeHost(driver, settings(), host('b.example.com'), { source: 'test', generation: 1 });
    const before = await snapshot(driver);
    // Neo4j refuses a map as a property value: this write fails in the database, not in validation.
    const broken = host('b.example.com', {
      facts: { os: { nested: true } as unknown as string },
      resources: [{ id: 'b.example.com::Service[other]', type: 'Service', title: 'other' }],
      dependencies: [],
    });
    await expect(writeHost(driver, settings(), broken, { source: 'test', generation: 2 })).rejects.toThrow(/Property values can only be of primitive types|primitive/);
    expect(await snapshot(driver)).toEqual(before);
  });

  it('a node whose facts fail in the database keeps its old catalog too: catalog and facts are one transaction', async () => {
    await writeHost(driver, settings(), host('d.example.com'), { source: 'puppetdb', generation: 1 });
    const before = await snapshot(driver);
    const changed = host('d.example.com', { resources: [{ id: 'd.example.com::Service[new]', type: 'Service', title: 'new' }], dependencies: [] });
    const badFacts = { certname: 'd.example.com', facts: { rack: { nested: true } as unknown as string } };
    await expect(writeHostAndFacts(driver, settings(), changed, badFacts, { source: 'puppetdb', generation: 2 })).rejects.toThrow(/primitive/);
    expect(await snapshot(driver)).toEqual(before);

    await writeHostAndFacts(driver, settings(), changed, { certname: 'd.example.com', facts: { rack: 'r7' } }, { source: 'puppetdb', generation: 3 });
    const { records } = await driver.executeQuery("MATCH (r:Resource)-[:RUNS_ON]->(h:Host {id: 'd.example.com'}) RETURN h.rack AS rack, collect(r.id) AS resources");
    expect(records.map((r) => r.toObject())).toEqual([{ rack: 'r7', resources: ['d.example.com::Service[new]'] }]);
  });
});

describe('loading the topology', () => {
  let driver: Driver;
  const settings = () => testConfig().neo4j;

  beforeAll(async () => {
    driver = await freshGraph();
  });
  afterAll(() => driver?.close());

  it("reads where each host stands from its facts (a page storm names the rack its hosts share), and nothing for the rest", async () => {
    await driver.executeQuery('MATCH (n) DETACH DELETE n');
    await writeHost(driver, settings(), host('r.example.com', { facts: { environment: 'production', rack: 'r7', location: 'dc1', az: 'eu-west-1a' } }), { source: 'test', generation: 1 });
    await writeHost(driver, settings(), host('z.example.com', { facts: { environment: 'production', az: 'eu-west-1b' } }), { source: 'test', generation: 1 });
    await writeHost(driver, settings(), host('n.example.com'), { source: 'test', generation: 1 });
    const { topology } = await loadTopology(driver, settings());
    const place = (id: string) => topology.places.get(topology.indexOf(id)!);
    expect(place('r.example.com')).toEqual({ rack: 'r7', az: 'eu-west-1a', location: 'dc1' });
    expect(place('z.example.com')).toEqual({ az: 'eu-west-1b' });
    expect(place('n.example.com')).toBeUndefined();
    expect(place('r.example.com::Service[app]')).toBeUndefined();
    expect(topology.places.size).toBe(2);
  });
});
