import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRule } from '../../src/compliance/rules.ts';
import { runRule, runRules } from '../../src/compliance/run.ts';
import type { Driver } from '../../src/graph/neo4j.ts';
import { freshGraph, testConfig } from '../support/services.ts';
import { DIRTY, importNative, wipe } from './estates.ts';

const header = (id: string, extra = '') => `// id: ${id}\n// severity: warning\n// description: a test rule\n${extra}\n`;
const ruleOf = (id: string, query: string, extra = '') => {
  const { rule, problems } = parseRule(header(id, extra) + query, `/rules/${id}.cypher`);
  expect(problems).toEqual([]);
  return rule!;
};

describe('running rules on a real Neo4j', () => {
  let driver: Driver;
  const settings = () => testConfig().neo4j;

  beforeAll(async () => {
    driver = await freshGraph();
    await wipe(driver);
    await importNative(driver, DIRTY);
  });
  afterAll(() => driver?.close());

  it('turns rows into violations: `entities` as ids or nodes, `entity` alone or put first', async () => {
    const nodes = ruleOf('nodes', "MATCH (h:Host) WHERE h.id STARTS WITH 'mq' RETURN [h] AS entities, 'mq host ' + h.id AS message ORDER BY h.id");
    expect((await runRule(driver, settings(), nodes)).violations).toEqual([
      { rule: 'nodes', severity: 'warning', message: 'mq host mq1.example.com', entities: ['mq1.example.com'] },
      { rule: 'nodes', severity: 'warning', message: 'mq host mq2.example.com', entities: ['mq2.example.com'] },
    ]);
    const single = ruleOf('single', "MATCH (h:Host {id: 'orphan.example.com'}) RETURN h AS entity, ['team:none'] AS entities, 'no owner' AS message, 42 AS extra");
    expect((await runRule(driver, settings(), single)).violations).toEqual([
      { rule: 'single', severity: 'warning', message: 'no owner', entities: ['orphan.example.com', 'team:none'] },
    ]);
  });

  it('passes declared parameters with their defaults, overridden by name, whole numbers as integers', async () => {
    const rule = ruleOf(
      'params',
      'MATCH (h:Host) WHERE h.rack IN $racks RETURN [h.id] AS entities, h.id + " " + toString($n) AS message ORDER BY h.id LIMIT $n',
      '// param.racks: ["r6", "r7", "r9"]\n// param.n: 2\n',
    );
    expect((await runRule(driver, settings(), rule)).violations.map((v) => v.message)).toEqual(['lonely.example.com 2', 'mq1.example.com 2'].sort());
    expect((await runRule(driver, settings(), rule, { params: { n: 1, racks: ['r7'], unrelated: true } })).violations.map((v) => v.message)).toEqual(['mq2.example.com 1']);
  });

  it('reports a rule that fails, with Neo4j\'s error and the file\'s line, and runs the others', async () => {
    const syntax = ruleOf('syntax', 'MATCH (h:Host\nRETURN h.id AS entity, "x" AS message');
    const missing = ruleOf('missing', 'RETURN $nowhere AS entity, "x" AS message');
    const writer = ruleOf('writer', "CREATE (e:Entity {id: 'oops'}) RETURN e.id AS entity, 'x' AS message");
    const shape = ruleOf('shape', "RETURN 'x' AS id, 'no entities' AS message");
    const ok = ruleOf('ok', "RETURN 'a' AS entity, 'fine' AS message");
    const result = await runRules(driver, settings(), [syntax, missing, writer, shape, ok]);
    const errors = Object.fromEntries(result.results.map((r) => [r.rule.id, r.error]));
    expect(errors.syntax).toMatchObject({ code: 'Neo.ClientError.Statement.SyntaxError', ruleFault: true });
    // The header is sent along as a comment: Neo4j's line numbers are the file's (line 6 here).
    expect(errors.syntax!.message).toMatch(/\(line 6, column 1/);
    expect(errors.missing).toMatchObject({ code: 'Neo.ClientError.Statement.ParameterMissing', ruleFault: true });
    // Rules run in read transactions: a rule cannot change the graph.
    expect(errors.writer).toMatchObject({ code: 'Neo.ClientError.Statement.AccessMode', ruleFault: true });
    expect((await driver.executeQuery("MATCH (e:Entity {id: 'oops'}) RETURN count(e) AS n")).records[0]!.get('n')).toBe(0);
    expect(errors.shape).toEqual({ message: 'row 1: expected a column `entities` (a list of entity ids) or `entity` (one id) (columns: id, message)', ruleFault: true });
    expect(errors.ok).toBeUndefined();
    expect(result.violations).toEqual([{ rule: 'ok', severity: 'warning', message: 'fine', entities: ['a'] }]);
    expect(result.summary).toMatchObject({ rules: 5, passed: 0, violated: 1, failed: 4 });
  });
});
