import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { junitXml } from '../../compliance/junit.ts';
import { configuredRules } from '../../compliance/configured.ts';
import { displayPath, RuleFileError, type Rule } from '../../compliance/rules.ts';
import { exitCode, runRules, type CheckResult } from '../../compliance/run.ts';
import { formatReport } from '../../compliance/table.ts';
import { connectNeo4j } from '../../graph/neo4j.ts';
import { loadRuntime, UsageError, type GlobalOptions } from '../runtime.ts';

export interface CheckOptions {
  /** Rule files or folders (repeatable), run with the built-in rules and those of `compliance.rules`. */
  rules?: string[];
  junit?: string;
  json?: boolean;
  /** false with --no-builtin. */
  builtin?: boolean;
  /** Comma-separated rule ids: run only these. */
  only?: string;
  /** NAME=VALUE (repeatable): a parameter for every rule that declares it. */
  param?: string[];
}

/**
 * `faultline check`: the built-in compliance rules plus the user's, against the graph. Prints a table (or
 * JSON), writes JUnit XML when asked. Exit status: 0 clean (warnings and info allowed), 1 a violation of
 * severity error (or the database failed a rule), 2 a rule file that cannot be used: a bad header, a duplicate
 * id, or Cypher that Neo4j refuses.
 */
export async function checkCommand(options: CheckOptions, global: GlobalOptions): Promise<void> {
  const { loaded } = loadRuntime(global);
  const { config } = loaded;

  let rules: Rule[];
  try {
    rules = configuredRules(config, { ...(loaded.file ? { configFile: loaded.file } : {}), extraPaths: options.rules ?? [], builtin: options.builtin !== false });
  } catch (err) {
    if (!(err instanceof RuleFileError)) throw new UsageError((err as Error).message);
    for (const problem of err.problems) process.stderr.write(`faultline: ${problem}\n`);
    process.exitCode = 2;
    return;
  }
  if (options.only !== undefined) {
    const wanted = options.only.split(',').map((s) => s.trim()).filter(Boolean);
    const unknown = wanted.filter((id) => !rules.some((r) => r.id === id));
    if (unknown.length > 0) throw new UsageError(`--only: no rule ${unknown.map((id) => `"${id}"`).join(', ')} (known: ${rules.map((r) => r.id).join(', ')})`);
    rules = rules.filter((r) => wanted.includes(r.id));
  }
  if (rules.length === 0) throw new UsageError('no rules to run (--no-builtin without --rules or compliance.rules)');
  const params = parseParams(options.param ?? [], rules);

  const neo4j = await connectNeo4j(config.neo4j);
  let result: CheckResult;
  try {
    result = await runRules(neo4j, config.neo4j, rules, { params });
  } finally {
    await neo4j.close();
  }

  if (options.junit) {
    const file = resolve(options.junit);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, junitXml(result));
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify(toJson(result), null, 2)}\n`);
  } else {
    process.stdout.write(formatReport(result));
  }
  process.exitCode = exitCode(result);
}

/** `--param NAME=VALUE`: VALUE is read as JSON when it parses (1, true, ["a"]), else taken as a string. */
function parseParams(pairs: string[], rules: Rule[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param: expected NAME=VALUE, got "${pair}"`);
    const name = pair.slice(0, eq).trim();
    const text = pair.slice(eq + 1);
    if (!rules.some((r) => Object.hasOwn(r.params, name))) {
      throw new UsageError(`--param: no rule to run declares a parameter "${name}"`);
    }
    try {
      params[name] = JSON.parse(text);
    } catch {
      params[name] = text;
    }
  }
  return params;
}

function toJson(result: CheckResult) {
  return {
    summary: result.summary,
    seconds: result.seconds,
    rules: result.results.map((r) => ({
      id: r.rule.id,
      severity: r.rule.severity,
      description: r.rule.description,
      file: displayPath(r.rule.file),
      builtin: r.rule.builtin,
      violations: r.violations.length,
      seconds: r.seconds,
      ...(r.error ? { error: r.error } : {}),
    })),
    violations: result.violations,
  };
}
