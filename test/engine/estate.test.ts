import { describe, expect, it } from 'vitest';
import {
  compileTopology,
  decommissionCheck,
  degraded,
  impact,
  implied,
  combinedDowntime,
  maintenanceDowntime,
  roots,
  spofs,
  type Topology,
} from '../../src/engine/index.ts';
import { estateInput } from './estate.ts';

/** Worked examples on examples/estate.yaml: the stories an operator would tell about it. */
const topo = compileTopology(estateInput());
const sorted = (ids: Iterable<string>) => [...ids].sort();

/** Each step of a path must be a real "needs" edge: hard dependency / RUNS_ON, or group → member. */
function expectValidPath(t: Topology, path: string[], failed: string[]) {
  for (let i = 0; i + 1 < path.length; i++) {
    const a = t.indexOf(path[i]!)!;
    const b = t.indexOf(path[i + 1]!)!;
    const needs = [...t.hardDeps.targets.subarray(t.hardDeps.offsets[a]!, t.hardDeps.offsets[a + 1]!)];
    const members = [...t.members.targets.subarray(t.members.offsets[a]!, t.members.offsets[a + 1]!)];
    expect(needs.includes(b) || members.includes(b), `${path[i]} → ${path[i + 1]}`).toBe(true);
  }
  expect(failed).toContain(path[path.length - 1]);
}

describe('the example estate', () => {
  it('compiles without problems, with ownership inherited from hosts', () => {
    expect(topo.problems).toEqual([]);
    const v = topo.indexOf('db1.example.com::Service[mysqld]')!;
    expect(topo.teams[topo.owners.targets[topo.owners.offsets[v]!]!]!.id).toBe('team:dba');
    expect(topo.checks.get('mail1.example.com/mailq')).toBe(topo.indexOf('mail1.example.com::Service[exim4]'));
    expect(topo.checks.get('db1.example.com/disk')).toBe(topo.indexOf('db1.example.com'));
  });

  it('losing db1 takes down db1 and its resources, and no service: the greylist has a second provider', () => {
    const result = impact(topo, ['db1.example.com'], { atRisk: true });
    expect(sorted(result.down)).toEqual(
      sorted(['db1.example.com', 'db1.example.com::Package[mysql-server]', 'db1.example.com::File[/etc/mysql/my.cnf]', 'db1.example.com::Service[mysqld]']),
    );
    expect(result.services).toEqual([]);
    expect(result.owners).toEqual(['team:dba']);
    // ... but that provider is the last: mail is one failure from down.
    expect(impact(topo, ['db1.example.com']).servicesAtRisk).toBeUndefined(); // only when asked
    expect(result.groupsWithoutSpare).toEqual(['group:capability:mysql-greylist']);
    expect(result.servicesAtRisk).toEqual(['service:mail']);
  });

  it('losing db1 and db2 takes mail down, through the capability and the service group, and says why', () => {
    const result = impact(topo, ['db1.example.com', 'db2.example.com']);
    for (const id of ['group:capability:mysql-greylist', 'mail1.example.com::Service[exim4]', 'mail2.example.com::Service[exim4]', 'group:service:mail', 'service:mail']) {
      expect(result.down).toContain(id);
    }
    expect(result.down).not.toContain('mail1.example.com');
    expect(result.services).toEqual(['service:mail']);
    expect(sorted(result.owners)).toEqual(['team:dba', 'team:mail-team']);
    const [why] = result.explanations;
    expect(why!.service).toBe('service:mail');
    expect(why!.path.slice(0, 2)).toEqual(['service:mail', 'group:service:mail']);
    expect(why!.path).toContain('group:capability:mysql-greylist');
    expectValidPath(topo, why!.path, result.failed);
  });

  it('mail is declared on two hosts: losing one leaves it up', () => {
    expect(impact(topo, ['mail1.example.com'], { atRisk: true })).toMatchObject({ services: [], servicesAtRisk: ['service:mail'], groupsWithoutSpare: ['group:service:mail'], holdingUp: ['mail2.example.com::Service[exim4]'] });
    // Down is not at risk.
    expect(impact(topo, ['mail1.example.com', 'mail2.example.com'], { atRisk: true })).toMatchObject({ services: ['service:mail'], servicesAtRisk: [], groupsWithoutSpare: [] });
  });

  it('the mongo shard needs two of three', () => {
    expect(implied(topo, ['mongo1.example.com']).has('group:mongodb-shard1')).toBe(false);
    expect(impact(topo, ['mongo1.example.com'], { atRisk: true })).toMatchObject({ servicesAtRisk: ['service:shop'], groupsWithoutSpare: ['group:mongodb-shard1'] });
    const two = impact(topo, ['mongo1.example.com', 'mongo3.example.com']);
    expect(two.down).toContain('group:mongodb-shard1');
    expect(two.down).toContain('group:shop-web');
    expect(two.services).toEqual(['service:shop']);
    expectValidPath(topo, two.explanations[0]!.path, two.failed);
  });

  it('soft dependencies on log1 only degrade, and only show with includeSoft', () => {
    const hard = impact(topo, ['log1.example.com']);
    expect(sorted(hard.affected)).toEqual(sorted(['log1.example.com', 'log1.example.com::Service[rsyslog]', 'service:logging']));
    expect(hard.degraded).toEqual([]);
    const soft = impact(topo, ['log1.example.com'], { includeSoft: true });
    expect(sorted(soft.degraded)).toEqual(sorted(['db1.example.com', 'db2.example.com', 'mail1.example.com::Service[exim4]', 'mail2.example.com::Service[exim4]']));
    expect(soft.affected).toHaveLength(7);
    expect(soft.services).toEqual(['service:logging']);
    expect(sorted(soft.owners)).toEqual(['team:dba', 'team:mail-team', 'team:platform']);
    expect(sorted(degraded(topo, implied(topo, ['log1.example.com'])))).toEqual(sorted(soft.degraded));
  });

  it('a degraded service is explained through its soft dependency', () => {
    const t = compileTopology({
      ...estateInput(),
      dependencies: [...estateInput().dependencies, { from: 'service:mail', to: 'log1.example.com::Service[rsyslog]', kind: 'soft' }],
    });
    const result = impact(t, ['log1.example.com'], { includeSoft: true });
    const mail = result.explanations.find((e) => e.service === 'service:mail')!;
    expect(mail).toEqual({ service: 'service:mail', path: ['service:mail', 'log1.example.com::Service[rsyslog]', 'log1.example.com'], degraded: true });
    expect(impact(t, ['log1.example.com']).services).toEqual(['service:logging']);
  });

  it('SPOFs: lb1 for the shop, the groups themselves; never a member with a spare', () => {
    const found = spofs(topo, { limit: Infinity });
    const byId = new Map(found.map((s) => [s.entity, s]));
    expect(byId.get('lb1.example.com')).toMatchObject({ services: ['service:shop'], teams: ['team:web-team'] });
    expect(byId.get('lb1.example.com::Service[haproxy]')?.services).toEqual(['service:shop']);
    for (const group of ['group:shop-web', 'group:mongodb-shard1', 'group:capability:mysql-greylist', 'group:service:mail']) expect(byId.has(group)).toBe(true);
    for (const notSpof of ['web1.example.com', 'web2.example.com::Service[nginx]', 'mongo1.example.com', 'mongo2.example.com::Service[mongod]', 'db1.example.com', 'db2.example.com::Service[mysqld]', 'mail1.example.com', 'mail2.example.com::Service[exim4]', 'service:shop', 'service:mail']) {
      expect(byId.has(notSpof), notSpof).toBe(false);
    }
    expect(sorted(byId.keys())).toEqual(
      sorted([
        'lb1.example.com',
        'lb1.example.com::Service[haproxy]',
        'group:shop-web',
        'group:mongodb-shard1',
        'group:capability:mysql-greylist',
        'group:service:mail',
        'log1.example.com',
        'log1.example.com::Service[rsyslog]',
      ]),
    );
    // All affect one service and one team: the wider blast radius ranks first.
    expect(found[0]!.entity).toBe('group:mongodb-shard1');
    expect(spofs(topo, { limit: 2 }).map((s) => s.entity)).toEqual(found.slice(0, 2).map((s) => s.entity));
  });

  it('critical equipment counts for SPOFs like a service', () => {
    const input = estateInput();
    input.entities = input.entities.map((e) => (e.id === 'mongo1.example.com::Service[mongod]' ? { ...e, critical: true } : e));
    const found = spofs(compileTopology(input), { limit: Infinity });
    const mongo1 = found.find((s) => s.entity === 'mongo1.example.com');
    expect(mongo1).toMatchObject({ services: [], critical: ['mongo1.example.com::Service[mongod]'] });
    // ... but not the critical entity itself.
    expect(found.some((s) => s.entity === 'mongo1.example.com::Service[mongod]')).toBe(false);
  });

  it('critical equipment one failure from down is at risk beside the services, in impact and in a maintenance plan', () => {
    const input = estateInput();
    input.entities = input.entities.map((e) => (e.id === 'mail2.example.com::Service[exim4]' ? { ...e, critical: true } : e));
    const topo = compileTopology(input);
    // db1 down: the greylisting capability has no spare, and both Exims need it.
    expect(impact(topo, ['db1.example.com'], { atRisk: true })).toMatchObject({
      servicesAtRisk: ['service:mail'],
      criticalAtRisk: ['mail2.example.com::Service[exim4]'],
      groupsWithoutSpare: ['group:capability:mysql-greylist'],
    });
    expect(combinedDowntime(topo, ['db1.example.com'], [])).toMatchObject({ criticalAtRisk: ['mail2.example.com::Service[exim4]'] });
    // Down, it is not at risk: mail2 itself failing leaves nothing of it to lose.
    expect(impact(topo, ['mail2.example.com'], { atRisk: true }).criticalAtRisk).toEqual([]);
  });

  it('roots: two databases fail, the mail alerts are suppressed by both', () => {
    const failing = [
      'mail1.example.com::Service[exim4]',
      'service:mail',
      'db1.example.com::Service[mysqld]',
      'db1.example.com',
      'db2.example.com::Service[mysqld]',
      'mail2.example.com::Service[exim4]',
      'nagios.example.com',
    ];
    const result = roots(topo, failing);
    expect(result.unknown).toEqual(['nagios.example.com']);
    expect(sorted(result.roots.map((r) => r.entities.join(',')))).toEqual(['db1.example.com', 'db2.example.com::Service[mysqld]']);
    expect(sorted(result.suppressedBy.keys())).toEqual(
      sorted(['mail1.example.com::Service[exim4]', 'mail2.example.com::Service[exim4]', 'service:mail', 'db1.example.com::Service[mysqld]']),
    );
    expect(result.suppressedBy.get('db1.example.com::Service[mysqld]')!.map((r) => r.entities)).toEqual([['db1.example.com']]);
    expect(sorted(result.suppressedBy.get('service:mail')!.flatMap((r) => r.entities))).toEqual(['db1.example.com', 'db2.example.com::Service[mysqld]']);
    expect(result.down.has('group:service:mail')).toBe(true);
  });

  it('roots: a child alerting alone is its own root until its parent alerts', () => {
    expect(roots(topo, ['web1.example.com::Service[nginx]']).roots.map((r) => r.entities)).toEqual([['web1.example.com::Service[nginx]']]);
    const both = roots(topo, ['web1.example.com::Service[nginx]', 'web1.example.com::Service[shop-app]']);
    expect(both.roots.map((r) => r.entities)).toEqual([['web1.example.com::Service[shop-app]']]);
    // One mongod failing does not explain the shop-app: the shard still has two.
    const notExplained = roots(topo, ['web1.example.com::Service[shop-app]', 'mongo1.example.com::Service[mongod]']);
    expect(notExplained.roots).toHaveLength(2);
  });

  it('maintenance of db1 and db2: downtime includes mail, stakeholders are the DBAs and mail team', () => {
    const plan = maintenanceDowntime(topo, ['db1.example.com', 'db2.example.com']);
    expect(plan.downtime).toContain('service:mail');
    expect(plan.services).toEqual(['service:mail']);
    expect(sorted(plan.stakeholders)).toEqual(['team:dba', 'team:mail-team']);
    expect(maintenanceDowntime(topo, ['db1.example.com']).stakeholders).toEqual(['team:dba']);
  });

  it('db2 in maintenance while db1 fails: mail goes down only because of the two together, and its owners are the ones to tell', () => {
    const together = combinedDowntime(topo, ['db2.example.com'], ['db1.example.com']);
    expect(together.services).toEqual(['service:mail']);
    expect(together.stakeholders).toEqual(['team:mail-team']);
    expect(together.servicesDownAlready).toEqual([]);
    // Neither side's own downtime is counted: only what the two take down together.
    const apart = new Set([...maintenanceDowntime(topo, ['db1.example.com']).downtime, ...maintenanceDowntime(topo, ['db2.example.com']).downtime]);
    expect(together.combined.filter((id) => apart.has(id))).toEqual([]);
    expect(together.combined).toEqual(expect.arrayContaining(['service:mail', 'group:capability:mysql-greylist']));
    // With db1 and db2 down already, mail is down whatever happens to mail2; nothing more goes with it.
    const already = combinedDowntime(topo, ['mail2.example.com'], ['db1.example.com', 'db2.example.com']);
    expect(already).toEqual({ combined: [], services: [], stakeholders: [], servicesDownAlready: ['service:mail'], servicesAtRisk: [], criticalAtRisk: [], groupsWithoutSpare: [], holdingUp: [] });
    // Unrelated downtime combines to nothing.
    expect(combinedDowntime(topo, ['lb1.example.com'], ['db1.example.com'])).toMatchObject({ combined: [], services: [] });
    // db2 alone takes nothing down, but leaves the greylisting database without a spare: mail is at risk meanwhile.
    expect(combinedDowntime(topo, ['db2.example.com'], [])).toMatchObject({ combined: [], services: [], servicesAtRisk: ['service:mail'], groupsWithoutSpare: ['group:capability:mysql-greylist'], holdingUp: ['db1.example.com::Service[mysqld]'] });
    // With db1 down as well, mail is down, not at risk.
    expect(together).toMatchObject({ servicesAtRisk: [], groupsWithoutSpare: [] });
  });

  it('decommission: web2 may go (it takes its resources along), lb1 may not', () => {
    const web2 = decommissionCheck(topo, ['web2.example.com']);
    expect(web2.safe).toBe(true);
    expect(sorted(web2.removed)).toEqual(sorted(['web2.example.com', 'web2.example.com::Service[nginx]', 'web2.example.com::Service[shop-app]']));
    const lb1 = decommissionCheck(topo, ['lb1.example.com']);
    expect(lb1.safe).toBe(false);
    expect(lb1.breaks).toEqual(['service:shop']);
    const both = decommissionCheck(topo, ['web1.example.com', 'web2.example.com']);
    expect(sorted(both.breaks)).toEqual(sorted(['group:shop-web', 'lb1.example.com::Service[haproxy]', 'service:shop']));
    expect(decommissionCheck(topo, ['mongo2.example.com::Service[mongod]']).safe).toBe(true);
  });
});
