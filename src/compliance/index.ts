/**
 * Compliance rules (design section 8; docs/compliance.md): load rule files, run them against Neo4j, report.
 * `faultline check` (src/cli/commands/check.ts) is one user; the GraphQL `compliance` query can be another.
 */
export { BUILTIN_RULE_IDS, BUILTIN_RULES_DIR, RULE_SEVERITIES, RuleFileError, loadRules, parseRule, type Rule, type RuleSeverity } from './rules.ts';
export { exitCode, runRule, runRules, summarise, type CheckResult, type CheckSummary, type RuleFailure, type RuleResult, type Violation } from './run.ts';
export { junitXml } from './junit.ts';
export { formatReport, summaryLine } from './table.ts';
