import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TopologyStore } from '../../src/engine/store.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { estate, openIncidents, pipeline, until, type Pipeline } from '../correlator/harness.ts';
import { runCli } from '../support/cli.ts';
import { testEnv } from '../support/services.ts';

/**
 * `faultline alerts` on the estate compiled by real Puppet, with a correlator deciding real events in the real NATS:
 * the CLI reads the same state and graph, and must say what the correlator said.
 */
describe('faultline alerts', () => {
  let driver: Driver;
  let topology: TopologyStore;
  let p: Pipeline;
  const cli = (...args: string[]) => runCli(['alerts', ...args], testEnv());

  beforeAll(async () => {
    ({ driver, topology } = await estate());
    p = await pipeline(topology);
    await p.send('mail1.example.com', 'mailq', 'critical', { text: 'queue 5000' });
    await p.send('log1.example.com', 'dns', 'critical', { text: 'unbound not answering' });
    await p.send('ghost.example.com', 'ping', 'critical');
    await p.send('db1.example.com', 'disk', 'warning', { text: '85% full' });
    await p.send('db2.example.com', 'disk', 'ok');
    await until('the DNS incident', () => openIncidents(p).find((i) => i.rootAlerts.includes('log1.example.com/dns')));
  });
  afterAll(async () => {
    await p?.close();
    await driver?.close();
  });

  it('lists what fails, roots first, each with what suppresses it and its incident', async () => {
    const dns = openIncidents(p).find((i) => i.rootAlerts.includes('log1.example.com/dns'))!;
    const { code, stdout, stderr } = await cli();
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [header, ...rows] = stdout.trimEnd().split('\n');
    expect(header).toMatch(/^ALERT\s+STATUS\s+FOR\s+VERDICT\s+INCIDENT\s+TEXT$/);
    const row = (id: string) => rows.find((r) => r.startsWith(`${id} `));
    expect(row('log1.example.com/dns')).toMatch(new RegExp(`^log1\\.example\\.com/dns\\s+critical\\s+\\d+s\\s+root\\s+${dns.id}\\s+unbound not answering$`));
    expect(row('ghost.example.com/ping')).toMatch(/^ghost\.example\.com\/ping\s+critical\s+\d+s\s+root \(unmapped\)\s+\S+\s*$/);
    expect(row('mail1.example.com/mailq')).toMatch(new RegExp(`^mail1\\.example\\.com/mailq\\s+critical\\s+\\d+s\\s+suppressed by log1\\.example\\.com::Service\\[unbound\\]\\s+${dns.id}\\s+queue 5000$`));
    expect(row('db1.example.com/disk')).toMatch(/^db1\.example\.com\/disk\s+warning\s+\d+s\s+below the threshold\s+-\s+85% full$/);
    expect(row('db2.example.com/disk')).toBeUndefined();
    // Roots, then suppressed, then below the threshold.
    expect(rows.indexOf(row('mail1.example.com/mailq')!)).toBeGreaterThan(rows.indexOf(row('log1.example.com/dns')!));
    expect(rows.indexOf(row('db1.example.com/disk')!)).toBeGreaterThan(rows.indexOf(row('mail1.example.com/mailq')!));
    expect(rows.at(-1)).toBe('4 alerts: 2 root, 1 suppressed, 1 below the threshold.');
  });

  it('filters by state and host, and answers JSON with the verdicts', async () => {
    const suppressed = await cli('--state', 'suppressed');
    expect(suppressed.stdout.trimEnd().split('\n').slice(1, -1).map((r) => r.split(/\s+/)[0])).toEqual(['mail1.example.com/mailq']);
    const db = JSON.parse((await cli('--state', 'all', '--host', 'db2.example.com', '--json')).stdout) as { id: string; verdict: string; status: string }[];
    expect(db).toMatchObject([{ id: 'db2.example.com/disk', verdict: 'ok', status: 'ok' }]);
    expect((await cli('--host', 'nosuch.example.com')).stdout).toBe('Nothing is failing.\n');
    // A silence changes no verdict; the alerts it matches say so.
    const now = Date.now();
    const silence = { id: 'sil-00000000000000bb', host: 'ghost*', check: '*', tags: {}, start: now - 1_000, end: now + 60_000, comment: 'decommissioned next week', createdBy: 'test', createdAt: now };
    await p.correlator.view.silences.put(silence.id, silence, undefined);
    const ghost = await cli('--host', 'ghost.example.com');
    expect(ghost.stdout).toMatch(/^ghost\.example\.com\/ping\s+critical\s+\d+s\s+root \(unmapped\), silenced \(sil-00000000000000bb\)\s/m);
    expect(JSON.parse((await cli('--host', 'ghost.example.com', '--json')).stdout)).toMatchObject([{ id: 'ghost.example.com/ping', verdict: 'root', silencedBy: [silence.id] }]);
    const bad = await cli('--state', 'broken');
    expect(bad).toMatchObject({ code: 2, stderr: 'faultline: --state: "broken" is not one of firing, root, suppressed, ok, all\n' });
  });

  it('`faultline maintenance plan` reads the same state: what fails now is down meanwhile', async () => {
    const { code, stdout, stderr } = await runCli(['maintenance', 'plan', 'db1.example.com', '--for', '1h'], testEnv());
    expect(stderr).toBe('');
    expect(code).toBe(0);
    // The unmapped ghost is no entity of the graph: nothing can depend on it.
    expect(stdout).toContain('Also down meanwhile: failing now: log1.example.com::Service[unbound].');
    // Exim needs DNS: mail is down already, whatever db1 does.
    expect(stdout).toMatch(/^Down already through those: .*service:mail/m);
    expect(stdout).not.toContain('WARNING');
  });
});
