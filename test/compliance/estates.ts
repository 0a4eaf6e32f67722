import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { nativeSource } from '../../importers/native/index.ts';
import { runImport } from '../../importers/run.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { silentLog, testConfig } from '../support/services.ts';

/**
 * Native estates for the compliance rules. CLEAN breaks no built-in rule: a tier-1 service on two hosts in two
 * zones and racks, needing a capability that two hosts in two other racks and zones provide; every host owned
 * and related to another. DIRTY is CLEAN plus exactly one offender per built-in rule (OFFENDERS).
 */
const host = (rack: string, az: string, extra: Record<string, unknown> = {}) => ({
  owner: 'ops',
  facts: { location: 'dc1', rack, az },
  ...extra,
});

const app = (rack: string, az: string, extra: Record<string, unknown> = {}) =>
  host(rack, az, {
    resources: { 'Service[app]': {} },
    services: { web: { tier: 1, owner: 'ops', resource: 'Service[app]' } },
    consumes: { db: { from: 'Service[app]', kind: 'hard' } },
    ...extra,
  });

const db = (rack: string, az: string) => host(rack, az, { resources: { 'Service[db]': {} }, provides: { db: 'Service[db]' } });

export const CLEAN = {
  teams: { ops: { contacts: ['email:ops@example.com'] } },
  hosts: {
    'app1.example.com': app('r1', 'az-a'),
    'app2.example.com': app('r2', 'az-b'),
    'db1.example.com': db('r3', 'az-a'),
    'db2.example.com': db('r4', 'az-b'),
  },
};

export const DIRTY = {
  teams: CLEAN.teams,
  // spof-tier1: a tier-1 service on one host with nothing else below it.
  services: { pay: { tier: 1, owner: 'ops', dependsOn: ['pay1.example.com'] } },
  groups: {
    // group-single-member: app1 uses a cache group of one.
    cache: { minHealthy: 1, members: ['cache1.example.com::Service[redis]'] },
    // group-single-az: a queue of two, both in az-c (in two racks).
    queue: { minHealthy: 1, members: ['mq1.example.com::Service[mq]', 'mq2.example.com::Service[mq]'] },
    // group-min-healthy: a search cluster declared to need three healthy members, with two.
    search: { minHealthy: 3, members: ['es1.example.com::Service[es]', 'es2.example.com::Service[es]'] },
  },
  hosts: {
    ...CLEAN.hosts,
    'app1.example.com': app('r1', 'az-a', { depends: [{ from: 'Service[app]', on: 'group:cache', kind: 'soft' }] }),
    // dangling-dependency: app2 needs something no import declares.
    'app2.example.com': app('r2', 'az-b', { depends: [{ from: 'Service[app]', on: 'gone.example.com::Service[api]', kind: 'soft' }] }),
    // no-dependencies: a host related to nothing else.
    'lonely.example.com': host('r9', 'az-a', { resources: { 'Package[cron]': {}, 'Service[cron]': { require: ['Package[cron]'] } } }),
    'cache1.example.com': host('r5', 'az-a', { resources: { 'Service[redis]': {} } }),
    'mq1.example.com': host('r6', 'az-c', { resources: { 'Service[mq]': {} } }),
    'mq2.example.com': host('r7', 'az-c', { resources: { 'Service[mq]': {} } }),
    'es1.example.com': host('r11', 'az-a', { resources: { 'Service[es]': {} } }),
    'es2.example.com': host('r12', 'az-b', { resources: { 'Service[es]': {} } }),
    // dependency-same-rack: batch1 shares rack r3 with db1, which it needs.
    'batch1.example.com': host('r3', 'az-a', { depends: [{ on: 'db1.example.com::Service[db]', kind: 'soft' }] }),
    // unowned.
    'orphan.example.com': { facts: { location: 'dc1', rack: 'r8', az: 'az-b' }, depends: [{ on: 'db2.example.com::Service[db]', kind: 'soft' }] },
    'pay1.example.com': host('r10', 'az-b', { depends: [{ on: 'db2.example.com::Service[db]', kind: 'soft' }] }),
  },
};

/** The violations DIRTY must give: rule id → the entities of its one violation. */
export const OFFENDERS: Record<string, string[]> = {
  'no-dependencies': ['lonely.example.com'],
  'group-single-member': ['group:cache', 'cache1.example.com::Service[redis]'],
  'group-min-healthy': ['group:search', 'es1.example.com::Service[es]', 'es2.example.com::Service[es]'],
  'group-single-az': ['group:queue', 'mq1.example.com::Service[mq]', 'mq2.example.com::Service[mq]'],
  'dependency-same-rack': ['batch1.example.com', 'db1.example.com::Service[db]'],
  'dangling-dependency': ['gone.example.com::Service[api]', 'app2.example.com::Service[app]'],
  unowned: ['orphan.example.com'],
  'spof-tier1': ['pay1.example.com', 'service:pay'],
};

/** Writes `estate` as a YAML file and imports it with `faultline import native`'s pipeline. */
export async function importNative(driver: Driver, estate: object): Promise<void> {
  const file = join(mkdtempSync(join(tmpdir(), 'faultline-estate-')), 'estate.yaml');
  writeFileSync(file, stringify(estate));
  const summary = await runImport(nativeSource, [file], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j });
  if (summary.failedFiles > 0 || summary.failedHosts > 0 || summary.warnings > 0) throw new Error(`the estate did not import cleanly: ${JSON.stringify(summary)}`);
}

/** An empty graph (the schema stays). */
export async function wipe(driver: Driver): Promise<void> {
  await driver.executeQuery('MATCH (n) DETACH DELETE n');
}
