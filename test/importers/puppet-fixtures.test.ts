import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFactsSource } from '../../importers/facts/index.ts';
import { puppetSource } from '../../importers/puppet/index.ts';
import { runImport } from '../../importers/run.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { dependencyTuples, memberTuples } from '../support/graph.ts';
import { freshGraph, freshNats, silentLog, testConfig } from '../support/services.ts';

/**
 * The estate of test/fixtures/puppet, compiled by real Puppet 7 (compile.sh), imported as a user would:
 * every cross-node link, group, owner, check and service of design sections 3 and 4 must be in the graph.
 */
const CATALOGS = join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'catalogs');

describe('an estate compiled by real Puppet, imported into a real Neo4j', () => {
  let driver: Driver;
  let nats: NatsConnection;
  let deps: string[];

  beforeAll(async () => {
    nats = await freshNats();
    driver = await freshGraph();
    const summary = await runImport(puppetSource, [CATALOGS], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j, nats });
    expect(summary).toMatchObject({ files: 11, hosts: 11, written: 11, failedFiles: 0, failedHosts: 0, warnings: 0 });
    deps = await dependencyTuples(driver);
  });
  afterAll(async () => {
    await driver?.close();
    await nats?.close();
  });

  it('links Exim on the mail hosts to the greylisting MySQL capability that db1 and db2 provide', async () => {
    expect(deps).toContain('mail1.example.com::Service[exim4] -hard-> group:capability:mysql-greylist');
    expect(deps).toContain('mail2.example.com::Service[exim4] -hard-> group:capability:mysql-greylist');
    const members = await memberTuples(driver);
    expect(members.filter((m) => m.startsWith('group:capability:mysql-greylist'))).toEqual([
      'group:capability:mysql-greylist > db1.example.com::Service[mysqld]',
      'group:capability:mysql-greylist > db2.example.com::Service[mysqld]',
    ]);
    // DNS has one provider: the consumers all hang on log1's unbound.
    expect(members.filter((m) => m.startsWith('group:capability:dns >'))).toEqual(['group:capability:dns > log1.example.com::Service[unbound]']);
    expect(deps).toContain('web1.example.com -hard-> group:capability:dns');
  });

  it('makes the explicit MongoDB shard a group of three needing two, and the shop app depend on it', async () => {
    const shard = await driver.executeQuery("MATCH (g:Group {id: 'group:mongodb-shard1'})-[:HAS_MEMBER]->(m) RETURN g.minHealthy AS min, collect(m.id) AS members");
    expect(shard.records[0]!.get('min')).toBe(2);
    expect([...(shard.records[0]!.get('members') as string[])].sort()).toEqual([
      'mongo1.example.com::Service[mongod]', 'mongo2.example.com::Service[mongod]', 'mongo3.example.com::Service[mongod]',
    ]);
    expect(deps).toContain('web1.example.com::Service[shop-app] -hard-> group:mongodb-shard1');
  });

  it('keeps soft dependencies soft, on a resource or on a whole host', () => {
    expect(deps).toContain('mail1.example.com::Service[exim4] -soft-> log1.example.com::Service[rsyslog]');
    expect(deps.filter((d) => d.startsWith('mongo1.example.com -soft->'))).toEqual(['mongo1.example.com -soft-> log1.example.com']);
  });

  it('makes one service vertex of a service declared on two hosts, depending on the group of both', async () => {
    const mail = await driver.executeQuery(
      "MATCH (s:Service {id: 'service:mail'})-[:DEPENDS_ON]->(g:Group)-[:HAS_MEMBER]->(m) MATCH (s)-[:OWNED_BY]->(t) RETURN s.tier AS tier, t.id AS team, g.id AS group, collect(m.id) AS members",
    );
    expect(mail.records).toHaveLength(1);
    expect(mail.records[0]!.get('tier')).toBe(1);
    expect(mail.records[0]!.get('team')).toBe('team:mail-team');
    expect([...(mail.records[0]!.get('members') as string[])].sort()).toEqual(['mail1.example.com::Service[exim4]', 'mail2.example.com::Service[exim4]']);
  });

  it('records owners with their contacts, a resource-level owner beside its host\'s, and checks', async () => {
    const owners = await driver.executeQuery(
      "MATCH (e:Entity)-[:OWNED_BY]->(t:Team) WHERE e.id IN ['log1.example.com', 'log1.example.com::Service[unbound]', 'db1.example.com'] RETURN e.id AS e, t.id AS team ORDER BY e",
    );
    expect(owners.records.map((r) => `${r.get('e')} ${r.get('team')}`)).toEqual([
      'db1.example.com team:dba',
      'log1.example.com team:platform',
      'log1.example.com::Service[unbound] team:netops',
    ]);
    const dba = await driver.executeQuery("MATCH (t:Team {id: 'team:dba'}) RETURN t.contacts AS contacts");
    expect(dba.records[0]!.get('contacts')).toEqual(expect.arrayContaining([expect.stringMatching(/^email:/)]));
    const checks = await driver.executeQuery("MATCH (e:Entity) WHERE 'mail1.example.com/mailq' IN e.checks OR 'db1.example.com/disk' IN e.checks RETURN e.id AS id ORDER BY id");
    expect(checks.records.map((r) => r.get('id'))).toEqual(['db1.example.com', 'mail1.example.com::Service[exim4]']);
  });

  it('turns every relationship form into intra-node dependencies: arrays, arrows, aliases, defined types, classes', () => {
    // require through the alias `shop` of Service[shop-app]; subscribe to a qualified defined type.
    expect(deps).toContain('web1.example.com::Service[nginx] -hard-> web1.example.com::Service[shop-app]');
    expect(deps).toContain('web1.example.com::Service[nginx] -hard-> web1.example.com::Profile::Vhost[shop.example.com]');
    // Package['haproxy'] -> File['/etc/haproxy/haproxy.cfg'] ~> Service['haproxy']
    expect(deps).toContain('lb1.example.com::File[/etc/haproxy/haproxy.cfg] -hard-> lb1.example.com::Package[haproxy]');
    expect(deps).toContain('lb1.example.com::Service[haproxy] -hard-> lb1.example.com::File[/etc/haproxy/haproxy.cfg]');
    // Class ordering and the require function.
    expect(deps).toContain('lb1.example.com::Class[Profile::Haproxy] -hard-> lb1.example.com::Class[Profile::Base]');
    expect(deps).toContain('mongo1.example.com::Class[Profile::Mongodb] -hard-> mongo1.example.com::Class[Profile::Base]');
    // The faultline declarations are links, not resources.
    expect(deps.some((d) => d.includes('Faultline::'))).toBe(false);
  });

  it('puts host facts from real Puppet next to the catalog without disturbing it', async () => {
    const before = await dependencyTuples(driver);
    const facts = join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'facts', 'find');
    const summary = await runImport(createFactsSource(testConfig().facts), [facts], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j, nats });
    expect(summary).toMatchObject({ failedFiles: 0, hosts: 1, written: 1 });
    const host = await driver.executeQuery("MATCH (h:Host {id: 'mail1.example.com'}) RETURN h.os AS os, h.classes AS classes");
    expect(host.records[0]!.get('os')).toEqual(expect.any(String));
    expect(host.records[0]!.get('classes')).toEqual(expect.arrayContaining(['profile::mail']));
    expect(await dependencyTuples(driver)).toEqual(before);
  });
});
