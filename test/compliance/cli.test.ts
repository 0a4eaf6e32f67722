import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_RULE_IDS } from '../../src/compliance/rules.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { runCli } from '../support/cli.ts';
import { freshGraph, testEnv } from '../support/services.ts';
import { CLEAN, DIRTY, importNative, OFFENDERS, wipe } from './estates.ts';
import { elements, parseXml } from './xml.ts';

/** A working directory with rule files in `rules/`. */
function workdir(rules: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-check-'));
  mkdirSync(join(dir, 'rules'));
  for (const [name, text] of Object.entries(rules)) writeFileSync(join(dir, 'rules', name), text);
  return dir;
}

const LAB_RULE = `// id: lab-hosts
// severity: warning
// description: Hosts in a rack of the lab.
// param.racks: ["r9"]

MATCH (h:Host) WHERE h.rack IN $racks
RETURN h.id AS entity, h.id + ' is in the lab' AS message
ORDER BY h.id
`;

describe('faultline check', () => {
  let driver: Driver;

  beforeAll(async () => {
    driver = await freshGraph();
    await wipe(driver);
    await importNative(driver, DIRTY);
  });
  afterAll(() => driver?.close());

  it('runs the built-in rules, prints the table, writes JUnit XML that parses, and exits 1 on an error-severity violation', async () => {
    const cwd = workdir();
    const { code, stdout, stderr } = await runCli(['check', '--junit', 'reports/compliance.xml'], testEnv(), cwd);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    for (const id of BUILTIN_RULE_IDS) expect(stdout).toMatch(new RegExp(`^${id} +(error|warning) +1 violation$`, 'm'));
    expect(stdout).toContain('pay1.example.com is a single point of failure of tier-1 service service:pay');
    expect(stdout.trimEnd().split('\n').at(-1)).toMatch(/^8 rules: 0 passed, 8 with violations, 0 failed; 8 violations \(4 errors, 4 warnings\) in [\d.]+ s$/);

    const root = parseXml(readFileSync(join(cwd, 'reports', 'compliance.xml'), 'utf8'));
    const suite = elements(root, 'testsuite')[0]!;
    const cases = elements(suite, 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual([...BUILTIN_RULE_IDS]);
    const failing = cases.filter((c) => elements(c, 'failure').length > 0).map((c) => c.attributes.name).sort();
    expect(failing).toEqual(['dangling-dependency', 'group-single-az', 'spof-tier1', 'unowned']);
    expect(suite.attributes).toMatchObject({ tests: '8', failures: '4', errors: '0', skipped: '0' });
    expect(elements(suite, 'failure').map((f) => f.attributes.message)).toContain('orphan.example.com has no owning team');
    const rack = cases.find((c) => c.attributes.name === 'dependency-same-rack')!;
    expect(elements(rack, 'system-out')[0]!.text).toContain('warning: batch1.example.com depends softly on db1.example.com::Service[db]');
  });

  it('exits 0 on a clean estate, and when only warnings are found', async () => {
    await wipe(driver);
    await importNative(driver, CLEAN);
    const clean = await runCli(['check'], testEnv());
    expect(clean.code, clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^8 rules: 8 passed, 0 with violations, 0 failed; 0 violations in/m);

    await wipe(driver);
    await importNative(driver, DIRTY);
    const warnings = await runCli(['check', '--only', 'no-dependencies,group-single-member,dependency-same-rack'], testEnv());
    expect(warnings.code, warnings.stderr).toBe(0);
    expect(warnings.stdout).toMatch(/3 violations \(3 warnings\)/);
  });

  it('loads and runs a user rule file with the built-in ones, takes --param, and answers in JSON', async () => {
    const cwd = workdir({ 'lab.cypher': LAB_RULE });
    const { code, stdout, stderr } = await runCli(['check', '--rules', 'rules/lab.cypher', '--param', 'racks=["r9","r10"]', '--json'], testEnv(), cwd);
    expect(stderr).toBe('');
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as {
      rules: { id: string; builtin: boolean; file: string; violations: number }[];
      violations: { rule: string; severity: string; message: string; entities: string[] }[];
      summary: { rules: number };
    };
    expect(report.rules.map((r) => r.id)).toEqual([...BUILTIN_RULE_IDS, 'lab-hosts']);
    // Paths as the user wrote them: relative to the working directory.
    expect(report.rules.at(-1)).toMatchObject({ id: 'lab-hosts', builtin: false, file: 'rules/lab.cypher', violations: 2 });
    expect(report.violations.filter((v) => v.rule === 'lab-hosts')).toEqual([
      { rule: 'lab-hosts', severity: 'warning', message: 'lonely.example.com is in the lab', entities: ['lonely.example.com'] },
      { rule: 'lab-hosts', severity: 'warning', message: 'pay1.example.com is in the lab', entities: ['pay1.example.com'] },
    ]);
    expect(report.violations.filter((v) => v.rule === 'unowned').map((v) => v.entities)).toEqual([OFFENDERS.unowned]);
  });

  it('reads rule folders and severities from faultline.yaml, and runs only user rules with --no-builtin', async () => {
    const cwd = workdir({ 'lab.cypher': LAB_RULE });
    writeFileSync(join(cwd, 'faultline.yaml'), 'compliance:\n  rules: rules\n  severity:\n    lab-hosts: error\n    unowned: info\n');
    const { code, stdout } = await runCli(['check', '--json'], testEnv(), cwd);
    expect(code).toBe(1);
    const report = JSON.parse(stdout) as { rules: { id: string; severity: string }[] };
    expect(report.rules.find((r) => r.id === 'lab-hosts')!.severity).toBe('error');
    expect(report.rules.find((r) => r.id === 'unowned')!.severity).toBe('info');

    const only = await runCli(['check', '--no-builtin', '--rules', 'rules'], testEnv(), workdir({ 'lab.cypher': LAB_RULE }));
    expect(only.code).toBe(0);
    expect(only.stdout).toMatch(/^lab-hosts +warning +1 violation$/m);
    expect(only.stdout).not.toMatch(/spof-tier1/);
  });

  it('exits 2 naming the file and line of a bad rule file, before touching the database and without a report', async () => {
    const cwd = workdir({ 'good.cypher': LAB_RULE, 'bad.cypher': '// id: bad\n// severity: fatal\n// description: x\n\nRETURN 1\n' });
    const { code, stdout, stderr } = await runCli(['check', '--rules', 'rules', '--junit', 'out.xml'], testEnv({ NEO4J_URI: 'bolt://127.0.0.1:1' }), cwd);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toBe('faultline: rules/bad.cypher:2: severity: expected error, warning or info, got "fatal"\n');
    expect(existsSync(join(cwd, 'out.xml'))).toBe(false);

    const duplicate = await runCli(['check', '--rules', 'rules/a.cypher', '--rules', 'rules/b.cypher'], testEnv(), workdir({ 'a.cypher': LAB_RULE, 'b.cypher': LAB_RULE }));
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toBe('faultline: rules/b.cypher: rule id "lab-hosts" is already used by rules/a.cypher\n');
  });

  it('exits 2 when Neo4j refuses a rule\'s Cypher, still running the others and writing the report', async () => {
    const cwd = workdir({ 'broken.cypher': '// id: broken\n// severity: warning\n// description: x\n\nMATCH (h:Host\nRETURN h.id AS entity, "x" AS message\n' });
    const { code, stdout } = await runCli(['check', '--rules', 'rules', '--junit', 'out.xml'], testEnv(), cwd);
    expect(code).toBe(2);
    expect(stdout).toMatch(/^broken +warning +FAILED \(rules\/broken\.cypher\): Neo\.ClientError\.Statement\.SyntaxError: .*\(line 6, column 1/m);
    expect(stdout).toMatch(/^unowned +error +1 violation$/m);
    const suite = elements(parseXml(readFileSync(join(cwd, 'out.xml'), 'utf8')), 'testsuite')[0]!;
    expect(suite.attributes).toMatchObject({ tests: '9', errors: '1' });
  });

  it('says plainly what is wrong with its options', async () => {
    const unknown = await runCli(['check', '--only', 'spof-tier1,nonsense'], testEnv());
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^faultline: --only: no rule "nonsense" \(known: no-dependencies, /);
    const param = await runCli(['check', '--param', 'maxTeir=2'], testEnv());
    expect(param.code).toBe(2);
    expect(param.stderr).toBe('faultline: --param: no rule to run declares a parameter "maxTeir"\n');
    const none = await runCli(['check', '--no-builtin'], testEnv());
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('faultline: no rules to run (--no-builtin without --rules or compliance.rules)\n');
  });
});
