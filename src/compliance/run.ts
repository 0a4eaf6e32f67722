import neo4j, { isNode, type Driver } from 'neo4j-driver';
import { z } from 'zod';
import type { Neo4jSettings } from '../graph/neo4j.ts';
import type { Rule, RuleSeverity } from './rules.ts';

/**
 * Runs compliance rules against Neo4j: each rule is one parameterised query in its own read transaction, and
 * each row it returns is one Violation. A rule that fails (bad Cypher, a missing parameter, rows without
 * `message`) is reported with its error and no violations; the other rules still run.
 */

/** What GraphQL's `Violation` carries (design section 8). */
export interface Violation {
  rule: string;
  severity: RuleSeverity;
  message: string;
  /** Entity ids; the first is the offender, the others what the message names with it. */
  entities: string[];
}

export interface RuleFailure {
  message: string;
  /** Neo4j's error code, when Neo4j refused or failed the query. */
  code?: string;
  /** The rule must change (bad Cypher, parameters or rows), as opposed to the database being unavailable. */
  ruleFault: boolean;
}

export interface RuleResult {
  rule: Rule;
  violations: Violation[];
  error?: RuleFailure;
  seconds: number;
}

export interface CheckSummary {
  rules: number;
  /** Rules that ran and returned nothing. */
  passed: number;
  /** Rules that ran and returned violations. */
  violated: number;
  /** Rules that could not run. */
  failed: number;
  violations: Record<RuleSeverity, number>;
}

export interface CheckResult {
  results: RuleResult[];
  violations: Violation[];
  summary: CheckSummary;
  seconds: number;
}

export interface RunOptions {
  /** Parameter values by name, for every rule that declares the parameter (overriding its default). */
  params?: Record<string, unknown>;
  /** Per-rule transaction timeout (default: the server's). */
  timeoutMs?: number;
}

const entityValue = z.union([
  z.string().min(1),
  z.custom<{ properties: { id: string } }>((v) => isNode(v) && typeof (v.properties as Record<string, unknown>).id === 'string', {
    error: 'a node without an id',
  }).transform((node) => node.properties.id),
]);

const rowSchema = z
  .looseObject({
    message: z.string({ error: 'expected a column `message` holding a string' }).min(1, { error: 'the message is empty' }),
    entities: z.array(entityValue, { error: 'expected `entities` to be a list of entity ids' }).optional(),
    entity: entityValue.nullish(),
  })
  .refine((row) => row.entities !== undefined || row.entity != null, {
    error: 'expected a column `entities` (a list of entity ids) or `entity` (one id)',
  });

export async function runRule(driver: Driver, settings: Neo4jSettings, rule: Rule, options: RunOptions = {}): Promise<RuleResult> {
  const started = performance.now();
  const seconds = () => Math.round(performance.now() - started) / 1000;
  const params = Object.fromEntries(
    Object.entries(rule.params).map(([name, value]) => [name, toCypher(options.params && Object.hasOwn(options.params, name) ? options.params[name] : value)]),
  );
  let records;
  try {
    const result = await driver.executeQuery(rule.cypher, params, {
      routing: neo4j.routing.READ,
      ...(settings.database ? { database: settings.database } : {}),
      ...(options.timeoutMs ? { transactionConfig: { timeout: options.timeoutMs } } : {}),
    });
    records = result.records;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    const message = err instanceof Error ? err.message : String(err);
    return {
      rule,
      violations: [],
      error: {
        message: message.trim(),
        ...(typeof code === 'string' ? { code } : {}),
        // Neo.ClientError.Statement.* (syntax, semantics, parameters, types, access mode) and
        // Neo.ClientError.Procedure.* (an unknown procedure): the rule's own doing.
        ruleFault: typeof code === 'string' && /^Neo\.ClientError\.(Statement|Procedure|Schema)\./.test(code),
      },
      seconds: seconds(),
    };
  }
  const violations: Violation[] = [];
  for (let i = 0; i < records.length; i++) {
    const parsed = rowSchema.safeParse(records[i]!.toObject());
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const column = issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ` : '';
      return {
        rule,
        violations: [],
        error: { message: `row ${i + 1}: ${column}${issue.message} (columns: ${records[i]!.keys.map(String).join(', ') || 'none'})`, ruleFault: true },
        seconds: seconds(),
      };
    }
    const row = parsed.data;
    const entities = row.entities ?? [];
    if (row.entity != null && !entities.includes(row.entity)) entities.unshift(row.entity);
    violations.push({ rule: rule.id, severity: rule.severity, message: row.message, entities });
  }
  return { rule, violations, seconds: seconds() };
}

/** Runs the rules one after the other (they are read-only and each may scan the graph). */
export async function runRules(driver: Driver, settings: Neo4jSettings, rules: Rule[], options: RunOptions = {}): Promise<CheckResult> {
  const started = performance.now();
  const results: RuleResult[] = [];
  for (const rule of rules) results.push(await runRule(driver, settings, rule, options));
  return summarise(results, Math.round(performance.now() - started) / 1000);
}

export function summarise(results: RuleResult[], seconds = results.reduce((sum, r) => sum + r.seconds, 0)): CheckResult {
  const violations = results.flatMap((r) => r.violations);
  const summary: CheckSummary = {
    rules: results.length,
    passed: results.filter((r) => !r.error && r.violations.length === 0).length,
    violated: results.filter((r) => r.violations.length > 0).length,
    failed: results.filter((r) => r.error).length,
    violations: { error: 0, warning: 0, info: 0 },
  };
  for (const v of violations) summary.violations[v.severity]++;
  return { results, violations, summary, seconds };
}

/**
 * `faultline check`'s exit status: 2 when a rule could not run because of the rule itself (fix the rule file),
 * 1 when another rule failure happened (the database) or a violation of severity error was found, else 0.
 */
export function exitCode(result: CheckResult): 0 | 1 | 2 {
  if (result.results.some((r) => r.error?.ruleFault)) return 2;
  if (result.results.some((r) => r.error) || result.summary.violations.error > 0) return 1;
  return 0;
}

/** JS values → Cypher parameters: whole numbers become integers (a JS number is sent as a float otherwise). */
function toCypher(value: unknown): unknown {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return neo4j.int(value);
  if (Array.isArray(value)) return value.map(toCypher);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toCypher(v)]));
  return value;
}
