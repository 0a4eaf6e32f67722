import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeSource } from '../../importers/native/index.ts';
import { puppetSource } from '../../importers/puppet/index.ts';
import { runImport } from '../../importers/run.ts';
import type { ApiServices } from '../../src/api/context.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { ensureLayout } from '../../src/bus/layout.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import { CorrelationView } from '../../src/correlator/view.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { freshGraph, freshNats, loadedTopology, silentLog, testConfig } from '../support/services.ts';

/** The graph answers of design section 8, over HTTP, on the estate compiled by real Puppet (test/fixtures/puppet). */
const CATALOGS = join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'catalogs');

type Gql = { data?: any; errors?: { message: string; extensions?: { code?: string } }[] };

describe('GraphQL graph answers on a real-Puppet estate', () => {
  let driver: Driver;
  let nats: NatsConnection;
  let server: ApiServer;
  let services: ApiServices;

  const ask = async (query: string, variables: Record<string, unknown> = {}): Promise<Gql> => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query, variables }),
    });
    return (await res.json()) as Gql;
  };
  const ids = (list: { id: string }[]) => list.map((e) => e.id).sort();

  beforeAll(async () => {
    driver = await freshGraph();
    nats = await freshNats();
    const summary = await runImport(puppetSource, [CATALOGS], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j, nats });
    expect(summary.failedFiles + summary.failedHosts).toBe(0);
    const config = testConfig({ api: { port: 0, auth: 'none' } });
    const topology = await loadedTopology(driver);
    await ensureLayout(nats);
    services = { config, log: silentLog, neo4j: driver, nats, topology, correlation: await CorrelationView.open(nats, topology, config.correlator), version: 'test' };
    server = await startApiServer(services);
  });
  afterAll(async () => {
    await server?.close();
    services?.correlation.stop();
    await nats?.close();
    await driver?.close();
  });

  it('one MySQL down of two takes no service down; both down take mail down, with who to call and why', async () => {
    const one = await ask('query($ids: [ID!]!) { impact(ids: $ids) { services { id } servicesAtRisk { id } criticalAtRisk { id } groupsWithoutSpare { id } holdingUp { id } } }', { ids: ['db1.example.com::Service[mysqld]'] });
    expect(one.errors).toBeUndefined();
    // No service down, but db2 is the last of the greylisting database: mail is one failure away.
    // Nothing in the fixture estate is marked critical.
    expect(one.data.impact).toEqual({ services: [], servicesAtRisk: [{ id: 'service:mail' }], criticalAtRisk: [], groupsWithoutSpare: [{ id: 'group:capability:mysql-greylist' }], holdingUp: [{ id: 'db2.example.com::Service[mysqld]' }] });

    const both = await ask(
      `query($ids: [ID!]!) { impact(ids: $ids) {
         services { id }
         owners { id contacts }
         explanations { service { id } path { id } degraded }
         servicesAtRisk { id }
       } }`,
      { ids: ['db1.example.com::Service[mysqld]', 'db2.example.com::Service[mysqld]'] },
    );
    expect(both.errors).toBeUndefined();
    expect(ids(both.data.impact.services)).toEqual(['service:mail']);
    expect(both.data.impact.servicesAtRisk).toEqual([]);
    expect(ids(both.data.impact.owners)).toEqual(expect.arrayContaining(['team:dba', 'team:mail-team']));
    const why = both.data.impact.explanations[0];
    expect(why.service.id).toBe('service:mail');
    expect(why.path[0].id).toBe('service:mail');
    expect(why.path.map((e: { id: string }) => e.id)).toContain('group:capability:mysql-greylist');
    expect(why.path.at(-1).id).toMatch(/^db[12]\.example\.com::Service\[mysqld\]$/);
  });

  it('soft dependents are only reported with includeSoft, and never as down', async () => {
    const query = 'query($soft: Boolean) { impact(ids: ["log1.example.com::Service[rsyslog]"], includeSoft: $soft) { affected { id } degraded { id } } }';
    const hard = await ask(query, { soft: false });
    expect(hard.data.impact.degraded).toEqual([]);
    expect(ids(hard.data.impact.affected)).not.toContain('mail1.example.com::Service[exim4]');
    const soft = await ask(query, { soft: true });
    expect(ids(soft.data.impact.degraded)).toContain('mail1.example.com::Service[exim4]');
  });

  it('ranks the single points of failure: the lone load balancer and the lone DNS, not a MySQL with a twin nor a mongod of three', async () => {
    const { data, errors } = await ask('{ spofs(limit: 200) { entity { id } services { id } teams { id } } }');
    expect(errors).toBeUndefined();
    const spofIds: string[] = data.spofs.map((s: { entity: { id: string } }) => s.entity.id);
    expect(spofIds).toContain('lb1.example.com');
    expect(spofIds).toContain('log1.example.com::Service[unbound]');
    expect(spofIds).not.toContain('db1.example.com::Service[mysqld]');
    expect(spofIds).not.toContain('db1.example.com');
    expect(spofIds).not.toContain('mongo1.example.com::Service[mongod]');
    const lb1 = data.spofs.find((s: { entity: { id: string } }) => s.entity.id === 'lb1.example.com');
    expect(ids(lb1.services)).toContain('service:shop');
  });

  it('plans a maintenance: downtime and stakeholders; decommission tells what breaks', async () => {
    const plan = await ask('{ maintenancePlan(ids: ["db1.example.com"], start: "2026-11-24T02:00:00Z", end: "2026-11-24T04:00:00+01:00") { start downtime { id } stakeholders { id } } }');
    expect(plan.errors).toBeUndefined();
    expect(plan.data.maintenancePlan.start).toBe('2026-11-24T02:00:00.000Z');
    expect(ids(plan.data.maintenancePlan.downtime)).toContain('db1.example.com::Service[mysqld]');
    expect(ids(plan.data.maintenancePlan.stakeholders)).toContain('team:dba');

    const one = await ask('{ decommissionCheck(ids: ["mongo1.example.com"]) { safe breaks { id } } }');
    expect(one.data.decommissionCheck).toEqual({ safe: true, breaks: [] });
    const two = await ask('{ decommissionCheck(ids: ["mongo1.example.com", "mongo2.example.com"]) { safe breaks { id } } }');
    expect(two.data.decommissionCheck.safe).toBe(false);
    expect(ids(two.data.decommissionCheck.breaks)).toEqual(expect.arrayContaining(['group:mongodb-shard1', 'web1.example.com::Service[shop-app]']));
  });

  it('answers entity and dependencies in both directions, with facts and owners', async () => {
    const { data, errors } = await ask(`{
      entity(id: "mail1.example.com::Service[exim4]") { id kind name managed owner { id } ... on Resource { host { id classes } } }
      down: dependencies(id: "mail1.example.com::Service[exim4]", direction: DOWN, depth: 1) { id }
      up: dependencies(id: "group:capability:mysql-greylist", direction: UP) { id }
      group: entity(id: "group:mongodb-shard1") { ... on Group { minHealthy members { id } } }
    }`);
    expect(errors).toBeUndefined();
    expect(data.entity).toMatchObject({ id: 'mail1.example.com::Service[exim4]', kind: 'RESOURCE', managed: true, owner: { id: 'team:mail-team' } });
    expect(data.entity.host.id).toBe('mail1.example.com');
    expect(data.entity.host.classes).toContain('profile::mail');
    expect(ids(data.down)).toEqual(expect.arrayContaining(['group:capability:mysql-greylist', 'mail1.example.com']));
    expect(ids(data.up)).toEqual(['mail1.example.com::Service[exim4]', 'mail2.example.com::Service[exim4]']);
    expect(data.group.minHealthy).toBe(2);
    expect(data.group.members).toHaveLength(3);
  });

  it('answers an unknown id with a NOT_FOUND error naming it, and a bad date with BAD_USER_INPUT', async () => {
    const unknown = await ask('{ impact(ids: ["nosuch.example.com"]) { services { id } } }');
    expect(unknown.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(unknown.errors?.[0]?.message).toContain('nosuch.example.com');
    expect((await ask('{ entity(id: "nosuch.example.com") { id } }')).data.entity).toBeNull();
    const date = await ask('{ maintenancePlan(ids: ["db1.example.com"], start: "tuesday", end: "2026-11-24T04:00:00Z") { start } }');
    expect(date.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it('reloads the topology when an import announces a change', async () => {
    expect((await ask('{ entity(id: "new1.example.com") { id } }')).data.entity).toBeNull();
    const stop = services.topology.watch(nats);
    try {
      const dir = mkdtempSync(join(tmpdir(), 'faultline-topology-'));
      writeFileSync(join(dir, 'new.yaml'), 'hosts:\n  new1.example.com:\n    resources: { "Service[x]": {} }\n');
      await runImport(nativeSource, [dir], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j, nats });
      await expect.poll(async () => (await ask('{ entity(id: "new1.example.com") { id } }')).data.entity, { timeout: 10_000 }).toEqual({ id: 'new1.example.com' });
    } finally {
      stop();
    }
  });
});

describe('GraphQL compliance', () => {
  let driver: Driver;
  let nats: NatsConnection;
  let server: ApiServer;
  let correlation: CorrelationView;

  beforeAll(async () => {
    driver = await freshGraph();
    nats = await freshNats();
    await runImport(nativeSource, [join(PROJECT_ROOT, 'examples', 'estate.yaml')], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j, nats });
    const config = testConfig({ api: { port: 0, auth: 'none' } });
    const topology = await loadedTopology(driver);
    await ensureLayout(nats);
    correlation = await CorrelationView.open(nats, topology, config.correlator);
    server = await startApiServer({ config, log: silentLog, neo4j: driver, nats, topology, correlation, version: 'test' });
  });
  afterAll(async () => {
    await server?.close();
    correlation?.stop();
    await nats?.close();
    await driver?.close();
  });

  const ask = async (query: string): Promise<Gql> => {
    const res = await fetch(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
    return (await res.json()) as Gql;
  };

  it('runs the named built-in rules and returns their violations with the entities they name', async () => {
    const { data, errors } = await ask('{ compliance(rules: ["group-single-az", "spof-tier1"]) { rule severity message entities { id } } }');
    expect(errors).toBeUndefined();
    const byRule = (rule: string) => data.compliance.filter((v: { rule: string }) => v.rule === rule);
    expect(byRule('group-single-az').map((v: { entities: { id: string }[] }) => v.entities[0]!.id)).toContain('group:capability:mysql-greylist');
    expect(byRule('group-single-az')[0].severity).toBe('ERROR');
    expect(byRule('spof-tier1').map((v: { entities: { id: string }[] }) => v.entities[0]!.id)).toContain('lb1.example.com');
  });

  it('answers an unknown rule id with NOT_FOUND', async () => {
    const { errors } = await ask('{ compliance(rules: ["no-such-rule"]) { rule } }');
    expect(errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
