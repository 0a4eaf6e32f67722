import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nativeSource } from '../../importers/native/index.ts';
import { runImport } from '../../importers/run.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { PROJECT_ROOT } from '../../src/stack/process.ts';
import { runCli } from '../support/cli.ts';
import { freshGraph, silentLog, testConfig, testEnv } from '../support/services.ts';

describe('faultline impact and faultline spof on the example estate', () => {
  let driver: Driver;

  beforeAll(async () => {
    driver = await freshGraph();
    await runImport(nativeSource, [join(PROJECT_ROOT, 'examples', 'estate.yaml')], {}, silentLog, { neo4j: driver, settings: testConfig().neo4j });
  });
  afterAll(() => driver?.close());

  it('impact --json: both greylisting databases down take mail down; the mail team and the DBAs are called', async () => {
    const { code, stdout, stderr } = await runCli(['impact', 'db1.example.com', 'db2.example.com', '--json', '--log-level', 'error'], testEnv());
    expect(code, stderr).toBe(0);
    const answer = JSON.parse(stdout) as { services: string[]; owners: { id: string; contacts: string[] }[]; explanations: { service: string; path: string[] }[] };
    expect(answer.services).toEqual(['service:mail']);
    expect(answer.owners.map((t) => t.id).sort()).toEqual(['team:dba', 'team:mail-team']);
    expect(answer.explanations[0]!.path[0]).toBe('service:mail');
  });

  it('impact names what one failure leaves without a spare, and what holds it up', async () => {
    const { code, stdout } = await runCli(['impact', 'mail1.example.com', '--log-level', 'error'], testEnv());
    expect(code).toBe(0);
    expect(stdout).toMatch(/^mail1\.example\.com down: \d+ entities down, 0 services, 1 team\.$/m);
    expect(stdout).toContain('AT RISK (no spare left in group:service:mail): service:mail');
    expect(stdout).toContain('  held up by mail2.example.com::Service[exim4]: each is now a single point of failure');
  });

  it('impact prints a table naming services, the path and who to call; an unknown id exits 2 naming it', async () => {
    const { code, stdout } = await runCli(['impact', 'lb1.example.com', '--log-level', 'error'], testEnv());
    expect(code).toBe(0);
    expect(stdout).toContain('service:shop: service:shop → lb1.example.com::Service[haproxy] → lb1.example.com');
    expect(stdout).toMatch(/team:web-team\s+email:web@example.com, slack:#web/);
    const unknown = await runCli(['impact', 'nosuch.example.com', '--log-level', 'error'], testEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('faultline: unknown entity: nosuch.example.com\n');
  });

  it('spof lists the lone load balancer and not a database with a twin', async () => {
    const { code, stdout } = await runCli(['spof', '--json', '--limit', '100', '--log-level', 'error'], testEnv());
    expect(code).toBe(0);
    const found = (JSON.parse(stdout) as { entity: string; services: string[] }[]).map((s) => s.entity);
    expect(found).toContain('lb1.example.com');
    expect(found).not.toContain('db1.example.com');
    const table = await runCli(['spof', '--log-level', 'error'], testEnv());
    expect(table.stdout.split('\n')[0]).toMatch(/^ENTITY\s+SERVICES\s+TEAMS\s+TAKES DOWN$/);
  });
});
