import { copyFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { puppetSource } from '../../importers/puppet/index.ts';
import { runImport } from '../../importers/run.ts';
import { BUILTIN_RULE_IDS, loadRules } from '../../src/compliance/rules.ts';
import { runRules, type CheckResult } from '../../src/compliance/run.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { freshGraph, silentLog, testConfig } from '../support/services.ts';
import { TopologyStore } from '../../src/engine/store.ts';
import { capturedLog } from '../notify/fixtures.ts';
import { CLEAN, DIRTY, importNative, OFFENDERS, wipe } from './estates.ts';

const CATALOGS = join(PROJECT_ROOT, 'test', 'fixtures', 'puppet', 'catalogs');
const rules = loadRules();

/** rule id → the entity lists of its violations, for every built-in rule (empty lists included). */
function byRule(result: CheckResult): Record<string, string[][]> {
  expect(result.results.filter((r) => r.error).map((r) => `${r.rule.id}: ${r.error!.message}`)).toEqual([]);
  return Object.fromEntries(BUILTIN_RULE_IDS.map((id) => [id, result.violations.filter((v) => v.rule === id).map((v) => v.entities)]));
}

describe('the built-in compliance rules on a real Neo4j', () => {
  let driver: Driver;
  const check = () => runRules(driver, testConfig().neo4j, rules);

  beforeAll(async () => {
    driver = await freshGraph();
  });
  afterAll(() => driver?.close());

  it('find nothing in a clean estate', async () => {
    await wipe(driver);
    await importNative(driver, CLEAN);
    const result = await check();
    expect(byRule(result)).toEqual(Object.fromEntries(BUILTIN_RULE_IDS.map((id) => [id, []])));
    expect(result.summary).toMatchObject({ rules: 8, passed: 8, violated: 0, failed: 0 });
  });

  it('each find exactly its one offender in an estate that has one per rule, and name it in the message', async () => {
    await wipe(driver);
    await importNative(driver, DIRTY);
    const result = await check();
    expect(byRule(result)).toEqual(Object.fromEntries(BUILTIN_RULE_IDS.map((id) => [id, [OFFENDERS[id]]])));
    for (const v of result.violations) {
      expect(v.message).toContain(v.entities[0]);
      expect(v.severity).toBe(rules.find((r) => r.id === v.rule)!.severity);
    }
    const message = (id: string) => result.violations.find((v) => v.rule === id)!.message;
    expect(message('spof-tier1')).toBe('pay1.example.com is a single point of failure of tier-1 service service:pay');
    expect(message('dangling-dependency')).toBe('gone.example.com::Service[api] is unknown (no import declares it), yet app2.example.com::Service[app] needs it');
    expect(message('group-single-az')).toBe('group:queue: all 2 members are in availability zone az-c (mq1.example.com::Service[mq], mq2.example.com::Service[mq])');
    expect(message('dependency-same-rack')).toBe(
      'batch1.example.com depends softly on db1.example.com::Service[db]: their hosts batch1.example.com and db1.example.com are in rack r3 of dc1',
    );
    expect(message('group-min-healthy')).toBe('group:search needs 3 healthy members but has 2: any one failing takes it down');
    // The engine, which treats that group as needing both, says so when it loads the topology.
    const { log, lines } = capturedLog();
    await new TopologyStore(driver, testConfig().neo4j, log).reload();
    expect(lines().find((l) => l.msg === 'the topology has problems; each is handled as the message says')).toMatchObject({
      level: 40, // pino's warn
      problems: expect.arrayContaining(['group:search needs 3 healthy members but has 2: treated as needing all of them']),
    });
  });

  it('follow dependencies through groups and services, and tell racks of different locations apart', async () => {
    await wipe(driver);
    const estate = structuredClone(CLEAN) as typeof CLEAN & { hosts: Record<string, { facts: Record<string, string> }> };
    // app1 shares its rack with db1, one provider of the capability it needs: reported, through the capability.
    estate.hosts['db1.example.com']!.facts.rack = 'r1';
    // app2 and db2 share a rack name, in two data centres: not the same rack.
    estate.hosts['db2.example.com']!.facts = { location: 'dc2', rack: 'r2', az: 'az-b' };
    await importNative(driver, estate);
    const result = await check();
    expect(byRule(result)['dependency-same-rack']).toEqual([['app1.example.com::Service[app]', 'db1.example.com::Service[db]']]);
    expect(result.violations.find((v) => v.rule === 'dependency-same-rack')!.message).toBe(
      'app1.example.com::Service[app] depends on db1.example.com::Service[db] (through group:capability:db): their hosts app1.example.com and db1.example.com are in rack r1 of dc1',
    );
  });

  it('no-dependencies: relations count through services and groups, up or down, but not a shared consumption', async () => {
    await wipe(driver);
    const bare = (resource: string, extra: Record<string, unknown> = {}) => ({ resources: { [resource]: {} }, ...extra });
    await importNative(driver, {
      services: {
        mid: { dependsOn: ['b1.example.com::Service[y]'] },
        solo: { tier: 3, dependsOn: ['e1.example.com'] },
      },
      groups: { peers: { members: ['f1.example.com', 'f2.example.com'] } },
      hosts: {
        // a1 needs b1 through a service: both are related.
        'a1.example.com': bare('Service[x]', { depends: [{ from: 'Service[x]', on: 'service:mid' }] }),
        'b1.example.com': bare('Service[y]'),
        // c1 and c2 only consume the same capability, which nobody provides: not related.
        'c1.example.com': bare('Service[c]', { consumes: { nothing: { from: 'Service[c]' } } }),
        'c2.example.com': bare('Service[c]', { consumes: { nothing: { from: 'Service[c]' } } }),
        // d1 and d2 run one service: related.
        'd1.example.com': bare('Service[t]', { services: { twin: { resource: 'Service[t]' } } }),
        'd2.example.com': bare('Service[t]', { services: { twin: { resource: 'Service[t]' } } }),
        // e1 is needed by a service only, which needs nothing else: not related to another host.
        'e1.example.com': bare('Service[e]'),
        // f1 and f2 are peers in a group: related.
        'f1.example.com': bare('Service[f]'),
        'f2.example.com': bare('Service[f]'),
      },
    });
    const result = await check();
    expect(byRule(result)['no-dependencies']).toEqual([['c1.example.com'], ['c2.example.com'], ['e1.example.com']]);
  });

  it('judge the example estate (examples/estate.yaml)', async () => {
    await wipe(driver);
    await importNative(driver, parse(readFileSync(join(PROJECT_ROOT, 'examples', 'estate.yaml'), 'utf8')) as object);
    const found = byRule(await check());
    expect(found).toEqual({
      'no-dependencies': [],
      'group-single-member': [],
      'group-min-healthy': [],
      // "MySQL databases not in the same availability zone": db1 and db2 are both in eu-west-1a.
      'group-single-az': [['group:capability:mysql-greylist', 'db1.example.com::Service[mysqld]', 'db2.example.com::Service[mysqld]']],
      'dependency-same-rack': [
        ['lb1.example.com::Service[haproxy]', 'web1.example.com::Service[nginx]'],
        ['mail1.example.com::Service[exim4]', 'db1.example.com::Service[mysqld]'],
        ['mail2.example.com::Service[exim4]', 'db2.example.com::Service[mysqld]'],
        ['web2.example.com::Service[shop-app]', 'mongo3.example.com::Service[mongod]'],
      ],
      'dangling-dependency': [],
      unowned: [],
      // "the shop runs behind lb1, a single load balancer: a SPOF".
      'spof-tier1': [
        ['lb1.example.com', 'service:shop'],
        ['lb1.example.com::Service[haproxy]', 'service:shop'],
      ],
    });
  });

  describe('on the estate compiled by real Puppet (test/fixtures/puppet)', () => {
    beforeAll(async () => {
      await wipe(driver);
      const summary = await runImport(puppetSource, [CATALOGS], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j });
      expect(summary).toMatchObject({ hosts: 11, failedFiles: 0, failedHosts: 0 });
    });

    it('report DNS, which only log1 provides, and what the shop and mail depend on alone', async () => {
      const found = byRule(await check());
      const lb1 = ['lb1.example.com', 'lb1.example.com::File[/etc/haproxy/errors/503 maintenance.http]', 'lb1.example.com::File[/etc/haproxy/haproxy.cfg]', 'lb1.example.com::Package[haproxy]', 'lb1.example.com::Service[haproxy]'];
      const log1 = ['log1.example.com', 'log1.example.com::File[/etc/unbound/unbound.conf.d/example.com.conf]', 'log1.example.com::Package[unbound]', 'log1.example.com::Service[unbound]'];
      expect(found).toEqual({
        'no-dependencies': [],
        'group-single-member': [['group:capability:dns', 'log1.example.com::Service[unbound]']],
        'group-min-healthy': [],
        // The catalogs carry no az or rack facts: nothing to judge.
        'group-single-az': [],
        'dependency-same-rack': [],
        'dangling-dependency': [],
        unowned: [],
        // Both web servers and both mail servers need DNS: log1's unbound takes the shop and mail down together.
        'spof-tier1': [...lb1.map((id) => [id, 'service:shop']), ...log1.map((id) => [id, 'service:mail', 'service:shop'])],
      });
    });

    it('report a host that a full import no longer contains, since a capability still counts on it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'faultline-catalogs-'));
      for (const file of readdirSync(CATALOGS)) if (file !== 'db2.example.com.json') copyFileSync(join(CATALOGS, file), join(dir, file));
      const summary = await runImport(puppetSource, [dir], { full: true }, silentLog, { neo4j: driver, settings: testConfig().neo4j });
      expect(summary.unmanaged).toEqual(['db2.example.com']);
      const result = await check();
      expect(byRule(result)['dangling-dependency']).toEqual([['db2.example.com::Service[mysqld]', 'group:capability:mysql-greylist']]);
      expect(result.violations.find((v) => v.rule === 'dangling-dependency')!.message).toBe(
        'db2.example.com::Service[mysqld] is no longer managed, yet group:capability:mysql-greylist needs it',
      );
      // An unmanaged host is not judged by the host rules.
      expect(byRule(result)['unowned']).toEqual([]);
      expect(byRule(result)['no-dependencies']).toEqual([]);
    });
  });
});
