import { describe, expect, it } from 'vitest';
import { junitXml } from '../../src/compliance/junit.ts';
import type { Rule, RuleSeverity } from '../../src/compliance/rules.ts';
import { exitCode, summarise, type RuleResult, type Violation } from '../../src/compliance/run.ts';
import { formatReport } from '../../src/compliance/table.ts';
import { elements, parseXml } from './xml.ts';

const rule = (id: string, severity: RuleSeverity): Rule => ({
  id,
  severity,
  description: `the ${id} rule & its <description>`,
  params: {},
  cypher: 'RETURN 1',
  file: `/rules/${id}.cypher`,
  builtin: false,
});
const violation = (r: Rule, message: string, entities: string[]): Violation => ({ rule: r.id, severity: r.severity, message, entities });

// Everything XML makes hard: markup characters, quotes, a CDATA end, control characters, lone surrogates, emoji.
const NASTY = 'a <b> & "c" \'d\' ]]> e\u0000f\u0007g\tline\nbreak \uD800 😀';

function sample(): RuleResult[] {
  const spof = rule('spof-tier1', 'error');
  const rack = rule('dependency-same-rack', 'warning');
  const info = rule('note', 'info');
  const broken = rule('broken', 'error');
  const clean = rule('unowned', 'error');
  return [
    { rule: spof, violations: [violation(spof, NASTY, ['db1.example.com::Service[a&b]', 'service:<x>']), violation(spof, 'lb1 is a SPOF', ['lb1'])], seconds: 0.01 },
    { rule: rack, violations: [violation(rack, 'a and b share rack r1', ['a', 'b'])], seconds: 0.02 },
    { rule: info, violations: [violation(info, 'for your information', ['x'])], seconds: 0 },
    { rule: broken, violations: [], error: { message: 'Invalid input "<": expected "(" (line 7, column 3)\n"MATCH <"', code: 'Neo.ClientError.Statement.SyntaxError', ruleFault: true }, seconds: 0.001 },
    { rule: clean, violations: [], seconds: 0.003 },
  ];
}

describe('the JUnit report', () => {
  it('is well-formed XML with one testsuite, one testcase per rule, and counts that match its elements', () => {
    const result = summarise(sample(), 0.5);
    const root = parseXml(junitXml(result, { timestamp: new Date('2026-11-21T10:00:00Z') }));
    expect(root.name).toBe('testsuites');
    const suites = elements(root, 'testsuite');
    expect(suites).toHaveLength(1);
    const suite = suites[0]!;
    const cases = elements(suite, 'testcase');
    expect(cases.map((c) => c.attributes.name)).toEqual(['spof-tier1', 'dependency-same-rack', 'note', 'broken', 'unowned']);
    const failed = cases.filter((c) => elements(c, 'failure').length > 0);
    const errored = cases.filter((c) => elements(c, 'error').length > 0);
    expect(suite.attributes).toMatchObject({ tests: String(cases.length), failures: String(failed.length), errors: String(errored.length), skipped: '0', timestamp: '2026-11-21T10:00:00' });
    expect(root.attributes).toMatchObject({ tests: '5', failures: '1', errors: '1' });
    // One <failure> per violation of severity error; warnings and info go to system-out and do not fail.
    expect(elements(suite, 'failure')).toHaveLength(2);
    expect(failed.map((c) => c.attributes.name)).toEqual(['spof-tier1']);
    expect(errored.map((c) => c.attributes.name)).toEqual(['broken']);
    const out = (name: string) => elements(cases.find((c) => c.attributes.name === name)!, 'system-out')[0]!.text;
    expect(out('dependency-same-rack')).toContain('warning: a and b share rack r1 [a, b]');
    expect(out('note')).toContain('info: for your information [x]');
    const properties = Object.fromEntries(elements(suite, 'property').map((p) => [p.attributes.name, p.attributes.value]));
    expect(properties).toEqual({ 'violations.error': '2', 'violations.warning': '1', 'violations.info': '1' });
  });

  it('escapes what it must and replaces what XML cannot hold, so messages read back as written', () => {
    const root = parseXml(junitXml(summarise(sample())));
    const failure = elements(root, 'failure')[0]!;
    const readable = NASTY.replace(/[\u0000\u0007]/g, '\uFFFD').replace('\uD800', '\uFFFD');
    expect(failure.attributes.message).toBe(readable);
    expect(failure.text).toBe(`${readable}\nentities: db1.example.com::Service[a&b], service:<x>`);
    const error = elements(root, 'error')[0]!;
    expect(error.attributes).toEqual({ message: 'Invalid input "<": expected "(" (line 7, column 3)', type: 'Neo.ClientError.Statement.SyntaxError' });
    expect(error.text).toContain('/rules/broken.cypher: Invalid input "<"');
    expect(elements(root, 'testcase')[0]!.attributes.file).toBe('/rules/spof-tier1.cypher');
  });

  it('is valid for a run without rules or violations', () => {
    const root = parseXml(junitXml(summarise([])));
    expect(elements(root, 'testsuite')[0]!.attributes).toMatchObject({ tests: '0', failures: '0', errors: '0' });
  });
});

describe('the terminal report and the exit status', () => {
  it('lists violations (errors first), then every rule with its result, then a summary', () => {
    const text = formatReport(summarise(sample(), 0.5));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SEVERITY +RULE +MESSAGE$/);
    expect(lines[1]).toMatch(/^error +spof-tier1 +a <b> & "c"/);
    expect(lines[1]).not.toContain('\n');
    expect(lines[3]).toMatch(/^warning +dependency-same-rack +a and b share rack r1$/);
    expect(lines[4]).toMatch(/^info +note +for your information$/);
    expect(text).toMatch(/^broken +error +FAILED \(\/rules\/broken\.cypher\): Neo\.ClientError\.Statement\.SyntaxError: Invalid input "<": expected "\(" \(line 7, column 3\)$/m);
    expect(text).toMatch(/^unowned +error +ok$/m);
    expect(text).toMatch(/^spof-tier1 +error +2 violations$/m);
    expect(lines.at(-1)).toBe('5 rules: 1 passed, 3 with violations, 1 failed; 4 violations (2 errors, 1 warning, 1 info) in 0.50 s');
  });

  it('is 2 when a rule is broken, 1 on a violation of severity error or a database failure, else 0', () => {
    const [spof, rack, info, broken, clean] = sample();
    expect(exitCode(summarise([spof!, rack!, info!, broken!, clean!]))).toBe(2);
    expect(exitCode(summarise([spof!, rack!, clean!]))).toBe(1);
    expect(exitCode(summarise([rack!, info!, clean!]))).toBe(0);
    expect(exitCode(summarise([{ ...broken!, error: { message: 'connection lost', ruleFault: false } }, clean!]))).toBe(1);
  });
});

describe('the XML check the tests rely on', () => {
  it('rejects what is not well-formed', () => {
    for (const bad of ['<a b="<"/>', '<a>&</a>', '<a>&nbsp;</a>', '<a><b></a></b>', '<a>\u0001</a>', '<a b=c/>', '<a b="1" b="2"/>', '<a/><b/>', '<a>]]></a>', '<a']) {
      expect(() => parseXml(bad), bad).toThrow(/not well-formed/);
    }
    expect(parseXml('<?xml version="1.0"?>\n<a x="&quot;&#65;&#x42;"><b>t&amp;u</b><!-- c --></a>\n')).toMatchObject({
      name: 'a',
      attributes: { x: '"AB' },
      children: [{ name: 'b', text: 't&u' }],
    });
  });
});
