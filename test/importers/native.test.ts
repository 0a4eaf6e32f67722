import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { nativeSource } from '../../importers/native/index.ts';
import { runImport } from '../../importers/run.ts';
import type { NatsConnection } from '../../src/bus/nats.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { runCli } from '../support/cli.ts';
import { dependencyTuples, memberTuples, snapshot } from '../support/graph.ts';
import { freshGraphEachTest, silentLog, testConfig, testEnv } from '../support/services.ts';

const ESTATE = join(PROJECT_ROOT, 'examples', 'estate.yaml');
const settings = () => testConfig().neo4j;

function tempFile(name: string, text: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'faultline-native-')), name);
  writeFileSync(file, text);
  return file;
}

describe('native topology import into a real Neo4j', () => {
  let driver: Driver;
  let nats: NatsConnection;

  freshGraphEachTest((d, n) => {
    driver = d;
    nats = n;
  });

  const importFiles = (paths: string[], options = {}) => runImport(nativeSource, paths, options, silentLog, { neo4j: driver, settings: settings(), nats });

  it('writes the example estate: cross-host links, capability and explicit groups, services, owners', async () => {
    const summary = await importFiles([ESTATE]);
    expect(summary).toMatchObject({ hosts: 11, written: 11, failedFiles: 0, failedHosts: 0, warnings: 0 });

    const deps = await dependencyTuples(driver);
    expect(deps).toEqual(
      expect.arrayContaining([
        'mail1.example.com::Service[exim4] -hard-> group:capability:mysql-greylist',
        'mail1.example.com::Service[exim4] -soft-> log1.example.com::Service[rsyslog]',
        'mail1.example.com::Service[exim4] -hard-> mail1.example.com::Package[exim4]',
        'db1.example.com::Service[mysqld] -hard-> db1.example.com::File[/etc/mysql/my.cnf]',
        'service:mail -hard-> group:service:mail',
        'service:shop -hard-> lb1.example.com::Service[haproxy]',
        'web1.example.com::Service[shop-app] -hard-> group:mongodb-shard1',
      ]),
    );
    expect(deps).toHaveLength(22);
    expect(await memberTuples(driver)).toEqual([
      'group:capability:mysql-greylist > db1.example.com::Service[mysqld]',
      'group:capability:mysql-greylist > db2.example.com::Service[mysqld]',
      'group:mongodb-shard1 > mongo1.example.com::Service[mongod]',
      'group:mongodb-shard1 > mongo2.example.com::Service[mongod]',
      'group:mongodb-shard1 > mongo3.example.com::Service[mongod]',
      'group:service:mail > mail1.example.com::Service[exim4]',
      'group:service:mail > mail2.example.com::Service[exim4]',
      'group:shop-web > web1.example.com::Service[nginx]',
      'group:shop-web > web2.example.com::Service[nginx]',
    ]);

    const shard = await driver.executeQuery("MATCH (g:Group {id: 'group:mongodb-shard1'}) RETURN g.minHealthy AS n");
    expect(shard.records[0]!.get('n')).toBe(2);
    const db1 = await driver.executeQuery(
      "MATCH (h:Host {id: 'db1.example.com'})-[:OWNED_BY]->(t:Team) RETURN h.az AS az, h.rack AS rack, h.classes AS classes, h.managed AS managed, t.id AS team, t.contacts AS contacts",
    );
    expect(db1.records[0]!.toObject()).toEqual({
      az: 'eu-west-1a', rack: 'r1', classes: ['mysql::server'], managed: true, team: 'team:dba', contacts: ['email:dba@example.com', 'slack:#dba'],
    });
    const checks = await driver.executeQuery("MATCH (r:Resource {id: 'mail1.example.com::Service[exim4]'}) RETURN r.checks AS checks");
    expect(checks.records[0]!.get('checks')).toEqual(['mail1.example.com/mailq', 'mail1.example.com/smtp']);
    const service = await driver.executeQuery("MATCH (s:Service {id: 'service:mail'})-[:OWNED_BY]->(t) RETURN s.tier AS tier, t.id AS team");
    expect(service.records[0]!.toObject()).toEqual({ tier: 1, team: 'team:mail-team' });
  });

  it('is idempotent: importing the same input again changes nothing', async () => {
    await importFiles([ESTATE]);
    const before = await snapshot(driver);
    const again = await importFiles([ESTATE]);
    expect(again).toMatchObject({ hosts: 11, written: 0 });
    expect(await snapshot(driver)).toEqual(before);
  });

  it('replaces exactly what a re-imported host declared, leaving the other hosts alone', async () => {
    await importFiles([ESTATE]);
    const changed = readFileSync(ESTATE, 'utf8').replace(
      '    consumes: { mysql-greylist: { from: "Service[exim4]", kind: hard } }\n    services: { mail: { tier: 1, owner: mail-team, resource: "Service[exim4]" } }\n    checks: { mailq: "Service[exim4]", smtp: "Service[exim4]" }\n    depends:\n      - { from: "Service[exim4]", on: "log1.example.com::Service[rsyslog]", kind: soft }\n\n  mail2',
      '    services: { mail: { tier: 1, owner: mail-team, resource: "Service[exim4]" } }\n    checks: { mailq: "Service[exim4]", smtp: "Service[exim4]" }\n\n  mail2',
    );
    expect(changed).not.toBe(readFileSync(ESTATE, 'utf8'));
    const summary = await importFiles([tempFile('estate.yaml', changed)]);
    expect(summary.written).toBe(1);
    const deps = await dependencyTuples(driver);
    expect(deps.filter((d) => d.startsWith('mail1.example.com'))).toEqual(['mail1.example.com::Service[exim4] -hard-> mail1.example.com::Package[exim4]']);
    expect(deps).toContain('mail2.example.com::Service[exim4] -hard-> group:capability:mysql-greylist');
    expect(deps).toHaveLength(20);
  });

  it('rejects a bad file naming file, line and path, imports the good ones, and writes nothing of the bad one', async () => {
    const bad = tempFile('bad.yaml', 'hosts:\n  x1.example.com:\n    resources:\n      "Service[a]": { requires: ["Package[a]"] }\n');
    const good = tempFile('good.yaml', 'hosts:\n  y1.example.com:\n    resources:\n      "Service[b]": {}\n');
    const summary = await importFiles([bad, good]);
    expect(summary).toMatchObject({ files: 2, failedFiles: 1, hosts: 1, written: 1 });
    const hosts = await driver.executeQuery('MATCH (h:Host) RETURN collect(h.id) AS ids');
    expect(hosts.records[0]!.get('ids')).toEqual(['y1.example.com']);

    const { code, stdout, stderr } = await runCli(['import', 'native', bad, good, '--log-level', 'error'], testEnv());
    expect(code).toBe(1);
    expect(stderr).toContain(`${bad}:4: $.hosts[\\"x1.example.com\\"].resources[\\"Service[a]\\"]: unknown key \\"requires\\"`);
    expect(stdout).toMatch(/^imported from native: 1 hosts, 1 resources, 0 edges, 0 warnings, 0 written, 1 unchanged, 1 bad files, [\d.]+ s\n$/);
  });

  it('--full keeps hosts the source no longer contains, as managed: false, with what depends on them', async () => {
    await importFiles([ESTATE]);
    const withoutLog1 = readFileSync(ESTATE, 'utf8').split('\n  log1.example.com:')[0]!;
    const summary = await importFiles([tempFile('estate.yaml', withoutLog1)], { full: true });
    expect(summary.unmanaged).toEqual(['log1.example.com']);
    const log1 = await driver.executeQuery(
      "MATCH (h:Host {id: 'log1.example.com'}) OPTIONAL MATCH (d)-[:DEPENDS_ON]->(:Resource {host: h.id}) RETURN h.managed AS managed, count(d) AS dependents",
    );
    expect(log1.records[0]!.toObject()).toEqual({ managed: false, dependents: 5 });
  });

  it('a host first seen after others declared links from its entities does not duplicate them', async () => {
    // The file declares a link *from* x1's resource before x1 itself is imported ...
    await importFiles([tempFile('links.yaml', 'dependencies:\n  - { from: "x1.example.com::Service[a]", on: "service:s" }\n')]);
    // ... then x1 arrives declaring the same link.
    await importFiles([tempFile('x1.yaml', 'hosts:\n  x1.example.com:\n    resources: { "Service[a]": {} }\n    depends: [{ from: "Service[a]", on: "service:s" }]\n')]);
    const links = await driver.executeQuery("MATCH (:Entity {id: 'x1.example.com::Service[a]'})-[r:DEPENDS_ON]->(:Entity {id: 'service:s'}) RETURN count(r) AS n");
    expect(links.records[0]!.get('n')).toBe(1);
  });

  it('--dry-run validates and writes nothing', async () => {
    const summary = await runImport(nativeSource, [ESTATE], { dryRun: true }, silentLog);
    expect(summary).toMatchObject({ hosts: 11, written: 0 });
    const count = await driver.executeQuery('MATCH (n) RETURN count(n) AS n');
    expect(count.records[0]!.get('n')).toBe(0);
  });
});
