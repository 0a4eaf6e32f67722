import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BUILTIN_RULE_IDS, BUILTIN_RULES_DIR, displayPath, loadRules, parseRule, RuleFileError } from '../../src/compliance/rules.ts';

const GOOD = `// id: my-rule
// severity: warning
// description: Hosts in the lab.
//   Continued on a second line.
// param.environment: "lab"
// param.limit: 10

// a free comment after a blank line is Cypher's business
MATCH (h:Host {environment: $environment})
RETURN [h.id] AS entities, h.id + ' is in the lab' AS message
LIMIT $limit;
`;

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof RuleFileError) return err.problems;
    throw err;
  }
  throw new Error('no RuleFileError');
}

function folder(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'faultline-rules-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

describe('rule files', () => {
  it('reads the header (with continuation lines and JSON parameters) and keeps the whole file as the query', () => {
    const { rule, problems } = parseRule(GOOD, '/rules/my.cypher');
    expect(problems).toEqual([]);
    expect(rule).toMatchObject({
      id: 'my-rule',
      severity: 'warning',
      description: 'Hosts in the lab. Continued on a second line.',
      params: { environment: 'lab', limit: 10 },
      file: '/rules/my.cypher',
      builtin: false,
    });
    // Same lines as the file (so Neo4j's line numbers are the file's), the final ";" blanked out.
    expect(rule!.cypher.split('\n')).toHaveLength(GOOD.split('\n').length);
    expect(rule!.cypher).toContain('LIMIT $limit \n');
    expect(rule!.cypher.startsWith('// id: my-rule\n')).toBe(true);
  });

  it('names the file and the line of every header problem', () => {
    const text = `// id: Bad Id
// severity: fatal
// descripton: typo
// severity: error
not a comment: the query starts here
`;
    const { rule, problems } = parseRule(text, join(process.cwd(), 'rules', 'bad.cypher'));
    expect(rule).toBeUndefined();
    expect(problems).toEqual([
      'rules/bad.cypher:1: id: an id is lower case letters, digits, ".", "_" and "-", like spof-tier1',
      'rules/bad.cypher:1: the header lacks "// description: ..."',
      'rules/bad.cypher:2: severity: expected error, warning or info, got "fatal"',
      'rules/bad.cypher:3: unknown header key "descripton" (expected id, severity, description or param.<name>)',
      'rules/bad.cypher:4: header key "severity" is given twice (first on line 2)',
    ]);
  });

  it('rejects a file without a header, a header line that is not key: value, a bad parameter and a missing query', () => {
    expect(parseRule('MATCH (n) RETURN n', '/r/a.cypher').problems).toEqual([
      '/r/a.cypher:1: a rule file starts with a header: "// id: <id>", "// severity: error|warning|info" and "// description: <text>" lines',
    ]);
    expect(parseRule('// id: a\n// severity: info\n// description: d\n// just a remark\nMATCH (n) RETURN n', '/r/b.cypher').problems).toEqual([
      '/r/b.cypher:4: a header line is "// key: value" (an indented "//   text" continues the value above); put a blank line between the header and free comments',
    ]);
    expect(parseRule('// id: a\n// severity: info\n// description: d\n// param.x: lab\n// param.2y: 1\nRETURN 1', '/r/c.cypher').problems).toEqual([
      '/r/c.cypher:4: param.x: the default must be JSON (a number, true, false, null, a "string" or a list), got lab',
      '/r/c.cypher:5: "2y" is not a Cypher parameter name (letters, digits and _)',
    ]);
    expect(parseRule('// id: a\n// severity: info\n// description: d\n\n// only a comment\n', '/r/d.cypher').problems).toEqual([
      '/r/d.cypher:4: no Cypher query after the header',
    ]);
  });

  it('allows one query per file: a ";" inside strings or comments is not a separator, a second statement is an error', () => {
    const header = '// id: a\n// severity: info\n// description: d\n';
    expect(parseRule(`${header}RETURN ';' AS message, ["x;y"] AS entities // ; here\n/* ; */`, '/r/e.cypher').problems).toEqual([]);
    expect(parseRule(`${header}RETURN 1;\nRETURN 2`, '/r/f.cypher').problems).toEqual(['/r/f.cypher:4: one query per rule file: text follows this ";"']);
  });

  it('ships exactly the built-in rules of design section 8, one file each, named by id, all valid', () => {
    const files = readdirSync(BUILTIN_RULES_DIR).filter((f) => f.endsWith('.cypher')).sort();
    expect(files).toEqual([...BUILTIN_RULE_IDS].map((id) => `${id}.cypher`).sort());
    const rules = loadRules();
    expect(rules.map((r) => r.id)).toEqual([...BUILTIN_RULE_IDS]);
    for (const rule of rules) {
      expect(rule.builtin).toBe(true);
      expect(rule.file).toBe(join(BUILTIN_RULES_DIR, `${rule.id}.cypher`));
      expect(rule.description.length).toBeGreaterThan(20);
      // Plain Cypher: no APOC, no GDS (design section 2).
      expect(rule.cypher).not.toMatch(/\b(apoc|gds)\./i);
    }
    expect(rules.find((r) => r.id === 'spof-tier1')!.params).toEqual({ maxTier: 1, includeGroups: false });
  });

  it('loads user rules from files and folders (recursively, *.cypher only) after the built-in ones', () => {
    const dir = folder({ 'a.cypher': GOOD, 'sub/b.cypher': GOOD.replace('my-rule', 'other-rule'), 'notes.txt': 'not a rule' });
    expect(loadRules({ paths: [dir] }).map((r) => r.id)).toEqual([...BUILTIN_RULE_IDS, 'my-rule', 'other-rule']);
    expect(loadRules({ builtin: false, paths: [join(dir, 'sub', 'b.cypher'), dir] }).map((r) => r.id)).toEqual(['other-rule', 'my-rule']);
  });

  it('reports two rules with one id naming both files, and an id taken from a built-in rule', () => {
    const dir = folder({ 'a.cypher': GOOD, 'b.cypher': GOOD, 'c.cypher': GOOD.replace('my-rule', 'unowned') });
    const problems = problemsOf(() => loadRules({ paths: [dir] }));
    expect(problems).toEqual([
      `${join(dir, 'b.cypher')}: rule id "my-rule" is already used by ${join(dir, 'a.cypher')}`,
      `${join(dir, 'c.cypher')}: rule id "unowned" is already used by ${displayPath(join(BUILTIN_RULES_DIR, 'unowned.cypher'))} (a built-in rule: give yours another id, or run with --no-builtin)`,
    ]);
  });

  it('reports a path that does not exist and a folder without rules', () => {
    const empty = folder({ 'readme.md': '#' });
    expect(problemsOf(() => loadRules({ builtin: false, paths: ['/nonexistent/rules', empty] }))).toEqual([
      '/nonexistent/rules: cannot read rules (ENOENT)',
      `${empty}: no rule files (*.cypher) in this folder`,
    ]);
  });
});
