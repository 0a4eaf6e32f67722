import type { EntityInput, TopologyInput } from '../../src/engine/index.ts';

/**
 * examples/estate.yaml, hand-built as the rows the native importer and the loader make of it: capabilities as
 * `group:capability:<name>` that consumers hard-depend on, a service declared on hosts as `service:<name>` →
 * `group:service:<name>` → the declaring resources, RUNS_ON for every resource, owners on hosts.
 */
export function estateInput(): TopologyInput {
  const input: TopologyInput = { entities: [], dependencies: [], runsOn: [], members: [], teams: [] };
  const entity = (e: Partial<EntityInput> & Pick<EntityInput, 'id' | 'kind'>) =>
    input.entities.push({ name: e.id, managed: true, owners: [], ...e });
  const hard = (from: string, to: string) => input.dependencies.push({ from, to, kind: 'hard' });
  const soft = (from: string, to: string) => input.dependencies.push({ from, to, kind: 'soft' });
  const member = (group: string, m: string) => input.members.push({ group, member: m });
  const host = (certname: string, owner: string, resources: string[], checks: Record<string, string | null> = {}) => {
    entity({ id: certname, kind: 'host', owners: [`team:${owner}`], checks: Object.entries(checks).filter(([, r]) => r === null).map(([c]) => `${certname}/${c}`) });
    for (const r of resources) {
      const id = `${certname}::${r}`;
      const mapped = Object.entries(checks).filter(([, target]) => target === r).map(([c]) => `${certname}/${c}`);
      entity({ id, kind: 'resource', host: certname, checks: mapped });
      input.runsOn.push({ resource: id, host: certname });
    }
  };

  for (const [name, contacts] of [
    ['dba', ['email:dba@example.com', 'slack:#dba']],
    ['mail-team', ['email:postmaster@example.com', 'pagerduty:mail-routing-key']],
    ['web-team', ['email:web@example.com', 'slack:#web']],
    ['platform', ['email:platform@example.com', 'slack:#platform']],
  ] as const) {
    input.teams.push({ id: `team:${name}`, name, contacts: [...contacts] });
  }

  entity({ id: 'service:shop', kind: 'service', tier: 1, owners: ['team:web-team'] });
  hard('service:shop', 'lb1.example.com::Service[haproxy]');
  entity({ id: 'service:logging', kind: 'service', tier: 3, owners: ['team:platform'] });
  hard('service:logging', 'log1.example.com::Service[rsyslog]');

  entity({ id: 'group:mongodb-shard1', kind: 'group', minHealthy: 2 });
  for (const m of ['mongo1', 'mongo2', 'mongo3']) member('group:mongodb-shard1', `${m}.example.com::Service[mongod]`);

  entity({ id: 'group:capability:mysql-greylist', kind: 'group' });
  for (const db of ['db1', 'db2']) {
    const h = `${db}.example.com`;
    host(h, 'dba', ['Package[mysql-server]', 'File[/etc/mysql/my.cnf]', 'Service[mysqld]'], { mysql: 'Service[mysqld]', ...(db === 'db1' ? { disk: null } : {}) });
    hard(`${h}::File[/etc/mysql/my.cnf]`, `${h}::Package[mysql-server]`);
    hard(`${h}::Service[mysqld]`, `${h}::Package[mysql-server]`);
    hard(`${h}::Service[mysqld]`, `${h}::File[/etc/mysql/my.cnf]`);
    member('group:capability:mysql-greylist', `${h}::Service[mysqld]`);
    soft(h, 'log1.example.com::Service[rsyslog]');
  }

  entity({ id: 'service:mail', kind: 'service', tier: 1, owners: ['team:mail-team'] });
  entity({ id: 'group:service:mail', kind: 'group' });
  hard('service:mail', 'group:service:mail');
  for (const m of ['mail1', 'mail2']) {
    const h = `${m}.example.com`;
    host(h, 'mail-team', ['Package[exim4]', 'Service[exim4]'], { mailq: 'Service[exim4]', smtp: 'Service[exim4]' });
    hard(`${h}::Service[exim4]`, `${h}::Package[exim4]`);
    hard(`${h}::Service[exim4]`, 'group:capability:mysql-greylist');
    member('group:service:mail', `${h}::Service[exim4]`);
    soft(`${h}::Service[exim4]`, 'log1.example.com::Service[rsyslog]');
  }

  host('lb1.example.com', 'web-team', ['Service[haproxy]'], { haproxy: 'Service[haproxy]' });
  entity({ id: 'group:shop-web', kind: 'group' });
  hard('lb1.example.com::Service[haproxy]', 'group:shop-web');
  for (const w of ['web1', 'web2']) {
    const h = `${w}.example.com`;
    host(h, 'web-team', ['Service[nginx]', 'Service[shop-app]'], { http: 'Service[nginx]' });
    member('group:shop-web', `${h}::Service[nginx]`);
    hard(`${h}::Service[nginx]`, `${h}::Service[shop-app]`);
    hard(`${h}::Service[shop-app]`, 'group:mongodb-shard1');
  }

  for (const m of ['mongo1', 'mongo2', 'mongo3']) host(`${m}.example.com`, 'dba', ['Service[mongod]'], { mongod: 'Service[mongod]' });
  host('log1.example.com', 'platform', ['Service[rsyslog]'], { rsyslog: 'Service[rsyslog]' });
  return input;
}
