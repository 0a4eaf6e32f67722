import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { puppetSource } from '../../importers/puppet/index.ts';
import { runImport } from '../../importers/run.ts';
import { loadRules } from '../../src/compliance/rules.ts';
import { runRule } from '../../src/compliance/run.ts';
import { spofs, type EntityInput, type Topology, type TopologyInput } from '../../src/engine/index.ts';
import { loadTopology } from '../../src/engine/load.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { freshGraph, silentLog, testConfig } from '../support/services.ts';
import { importNative, wipe } from './estates.ts';
import { randomTopology } from './random-topology.ts';
import { writeTopology } from './topology-graph.ts';

/**
 * spof-tier1 is plain Cypher; the engine's spofs() (design section 5, src/engine/spofs.ts) is the reference.
 * Every case here loads the engine from the same Neo4j with loadTopology and compares: for each entity x, the
 * tier-1 services (tier 0 or 1) in implied({x}) other than x.
 */
const rule = loadRules().find((r) => r.id === 'spof-tier1')!;

/** [entity, ...tier-1 services it takes down], sorted, as the engine says. */
function engineTier1(topology: Topology, includeGroups: boolean): string[][] {
  const rows: string[][] = [];
  for (const spof of spofs(topology, { limit: Infinity })) {
    if (!includeGroups && spof.entity.startsWith('group:')) continue;
    const services = spof.services.filter((id) => {
      const tier = topology.tier[topology.indexOf(id)!]!;
      return tier >= 0 && tier <= 1;
    });
    if (services.length > 0) rows.push([spof.entity, ...services.sort()]);
  }
  return rows.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
}

describe('spof-tier1 against the engine', () => {
  let driver: Driver;
  const settings = () => testConfig().neo4j;

  async function both(includeGroups: boolean): Promise<{ cypher: string[][]; engine: string[][] }> {
    const { topology } = await loadTopology(driver, settings());
    const result = await runRule(driver, settings(), rule, { params: { includeGroups } });
    expect(result.error).toBeUndefined();
    return { cypher: result.violations.map((v) => v.entities), engine: engineTier1(topology, includeGroups) };
  }

  async function expectSame(): Promise<string[][]> {
    const all = await both(true);
    expect(all.cypher).toEqual(all.engine);
    const physical = await both(false);
    expect(physical.cypher).toEqual(physical.engine);
    return all.cypher;
  }

  beforeAll(async () => {
    driver = await freshGraph();
  });
  afterAll(() => driver?.close());

  it('agrees on the estate compiled by real Puppet, where DNS on log1 is a common cause of both web and both mail servers', async () => {
    await wipe(driver);
    await runImport(puppetSource, [join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'catalogs')], {}, silentLog, { neo4j: driver, settings: settings() });
    const found = await expectSame();
    expect(found).toContainEqual(['log1.example.com::Service[unbound]', 'service:mail', 'service:shop']);
    expect(found).toContainEqual(['group:capability:dns', 'service:mail', 'service:shop']);
    expect(found).toHaveLength(15);
  });

  it('agrees on examples/estate.yaml', async () => {
    await wipe(driver);
    await importNative(driver, parse(readFileSync(join(PROJECT_ROOT, 'examples', 'estate.yaml'), 'utf8')) as object);
    expect(await expectSame()).toEqual([
      ['group:capability:mysql-greylist', 'service:mail'],
      ['group:mongodb-shard1', 'service:shop'],
      ['group:service:mail', 'service:mail'],
      ['group:shop-web', 'service:shop'],
      ['lb1.example.com', 'service:shop'],
      ['lb1.example.com::Service[haproxy]', 'service:shop'],
    ]);
  });

  it('agrees on the hard cases: common causes through nested and cyclic redundancy, minHealthy edge cases, tiers, soft links', async () => {
    await wipe(driver);
    const t = new Builder();
    // 1. Replicas → databases → storage → one SAN: a common cause three redundancy groups deep.
    t.service('service:shop', 1).hard('service:shop', 'group:shop');
    t.group('group:shop', 1, ['a1.example.com::Service[app]', 'a2.example.com::Service[app]']);
    for (const a of ['a1', 'a2']) t.resource(a, 'Service[app]').hard(`${a}.example.com::Service[app]`, 'group:db');
    t.group('group:db', 1, ['d1.example.com::Service[db]', 'd2.example.com::Service[db]']);
    for (const d of ['d1', 'd2']) t.resource(d, 'Service[db]').hard(`${d}.example.com::Service[db]`, 'group:storage');
    t.group('group:storage', 1, ['s1.example.com::Service[disk]', 's2.example.com::Service[disk]']);
    for (const s of ['s1', 's2']) t.resource(s, 'Service[disk]').hard(`${s}.example.com`, 'san.example.com');
    t.host('san.example.com');
    // 2. Two redundancy groups that need each other, and one thing both of one's members need.
    t.service('service:ring', 0).hard('service:ring', 'group:left');
    t.group('group:left', 1, ['l1.example.com', 'l2.example.com']).group('group:right', 1, ['r1.example.com', 'r2.example.com']);
    t.host('l1.example.com').host('l2.example.com').host('r1.example.com').host('r2.example.com').host('core.example.com');
    t.hard('l1.example.com', 'group:right').hard('l2.example.com', 'group:right').hard('r1.example.com', 'group:left');
    t.hard('r1.example.com', 'core.example.com').hard('r2.example.com', 'core.example.com');
    // 3. minHealthy above the member count: all are needed. minHealthy 0: never down by membership.
    t.service('service:strict', 1).hard('service:strict', 'group:strict');
    t.group('group:strict', 5, ['m1.example.com', 'm2.example.com']).host('m1.example.com').host('m2.example.com');
    t.service('service:lax', 1).hard('service:lax', 'group:lax');
    t.group('group:lax', 0, ['n1.example.com']).host('n1.example.com');
    // 4. A group with no members (never down by membership) that has a hard dependency of its own; a spare group
    //    with one too.
    t.service('service:empty', 1).hard('service:empty', 'group:empty').group('group:empty', 1, []).hard('group:empty', 'e1.example.com').host('e1.example.com');
    t.service('service:own', 1).hard('service:own', 'group:own').group('group:own', 1, ['o1.example.com', 'o2.example.com']);
    t.host('o1.example.com').host('o2.example.com').host('z.example.com').hard('group:own', 'z.example.com');
    // 5. Two members of a spare group on one host: the host is a SPOF, each member is not.
    t.service('service:twins', 1).hard('service:twins', 'group:twins');
    t.group('group:twins', 1, ['t1.example.com::Service[a]', 't1.example.com::Service[b]']).resource('t1', 'Service[a]').resource('t1', 'Service[b]');
    // 6. Tiers: 2 and none do not count; soft links never propagate; a hard cycle; a placeholder.
    t.service('service:tier2', 2).hard('service:tier2', 'x2.example.com').host('x2.example.com');
    t.service('service:untiered', undefined).hard('service:untiered', 'x3.example.com').host('x3.example.com');
    t.service('service:soft', 1).soft('service:soft', 'x4.example.com').host('x4.example.com');
    t.service('service:cycle', 1).hard('service:cycle', 'c1.example.com').host('c1.example.com').host('c2.example.com');
    t.hard('c1.example.com', 'c2.example.com').hard('c2.example.com', 'c1.example.com');
    t.service('service:ghost', 1).hard('service:ghost', 'ghost.example.com::Service[api]');
    // 7. A group listed as its own member (ignored by the engine).
    t.service('service:self', 1).hard('service:self', 'group:self').group('group:self', 1, ['group:self', 'q1.example.com', 'q2.example.com']);
    t.host('q1.example.com').host('q2.example.com');
    await writeTopology(driver, t.input, new Set(['ghost.example.com::Service[api]']));

    const found = await expectSame();
    const of = (id: string) => found.filter((row) => row[0] === id).map((row) => row.slice(1));
    expect(of('san.example.com')).toEqual([['service:shop']]);
    expect(of('group:storage')).toEqual([['service:shop']]);
    expect(of('a1.example.com')).toEqual([]);
    expect(of('core.example.com')).toEqual([['service:ring']]);
    expect(of('m1.example.com')).toEqual([['service:strict']]);
    expect(of('n1.example.com')).toEqual([]);
    expect(of('e1.example.com')).toEqual([['service:empty']]);
    expect(of('z.example.com')).toEqual([['service:own']]);
    expect(of('o1.example.com')).toEqual([]);
    expect(of('t1.example.com')).toEqual([['service:twins']]);
    expect(of('t1.example.com::Service[a]')).toEqual([]);
    expect(of('x2.example.com')).toEqual([]);
    expect(of('x3.example.com')).toEqual([]);
    expect(of('x4.example.com')).toEqual([]);
    expect(of('c2.example.com')).toEqual([['service:cycle']]);
    expect(of('ghost.example.com::Service[api]')).toEqual([['service:ghost']]);
    expect(of('q1.example.com')).toEqual([]);
  });

  it('agrees on random graphs (cycles, nested groups, every minHealthy, placeholders)', async () => {
    const cases = [...Array.from({ length: 40 }, (_, i) => ({ seed: 1000 + i, size: 24 })), ...Array.from({ length: 4 }, (_, i) => ({ seed: 2000 + i, size: 60 }))];
    let withSpofs = 0;
    for (const { seed, size } of cases) {
      await wipe(driver);
      const { input, placeholders } = randomTopology(seed, size);
      await writeTopology(driver, input, placeholders);
      const { cypher, engine } = await both(true);
      expect(cypher, `seed ${seed}`).toEqual(engine);
      if (engine.length > 0) withSpofs++;
    }
    expect(withSpofs).toBeGreaterThan(cases.length / 2);
  }, 180_000);

  it('differs where documented: a resource gone from its host\'s catalog has lost RUNS_ON, which the engine restores from `host`', async () => {
    await wipe(driver);
    const t = new Builder();
    t.service('service:api', 1).hard('service:api', 'old.example.com::Service[api]').host('old.example.com');
    t.input.entities.push({ id: 'old.example.com::Service[api]', kind: 'resource', name: 'Service[api]', host: 'old.example.com', managed: false, owners: [] });
    await writeTopology(driver, t.input);
    const { cypher, engine } = await both(false);
    expect(engine).toEqual([['old.example.com', 'service:api'], ['old.example.com::Service[api]', 'service:api']]);
    expect(cypher).toEqual([['old.example.com::Service[api]', 'service:api']]);
  });
});

/** Engine rows for hand-made graphs: hosts, resources (RUNS_ON and `host`), services, groups and links. */
class Builder {
  readonly input: TopologyInput = { entities: [], dependencies: [], runsOn: [], members: [], teams: [] };
  private readonly known = new Set<string>();

  private add(e: Omit<EntityInput, 'name' | 'managed' | 'owners'>): this {
    if (!this.known.has(e.id)) this.input.entities.push({ name: e.id, managed: true, owners: [], ...e });
    this.known.add(e.id);
    return this;
  }
  host(id: string): this {
    return this.add({ id, kind: 'host' });
  }
  resource(host: string, ref: string): this {
    const certname = `${host}.example.com`;
    const id = `${certname}::${ref}`;
    if (!this.known.has(id)) this.input.runsOn.push({ resource: id, host: certname });
    return this.host(certname).add({ id, kind: 'resource', host: certname });
  }
  service(id: string, tier: number | undefined): this {
    return this.add({ id, kind: 'service', ...(tier !== undefined ? { tier } : {}) });
  }
  group(id: string, minHealthy: number, members: string[]): this {
    for (const member of members) this.input.members.push({ group: id, member });
    return this.add({ id, kind: 'group', minHealthy });
  }
  hard(from: string, to: string): this {
    this.input.dependencies.push({ from, to, kind: 'hard' });
    return this;
  }
  soft(from: string, to: string): this {
    this.input.dependencies.push({ from, to, kind: 'soft' });
    return this;
  }
}
