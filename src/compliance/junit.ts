import { displayPath } from './rules.ts';
import type { CheckResult, RuleResult, Violation } from './run.ts';

/**
 * JUnit XML for CI (GitLab, GitHub Actions reporters, Jenkins): one <testsuite> per run, one <testcase> per rule.
 * - a violation of severity error is a <failure> of its rule's testcase (one per violation);
 * - warnings and info do not fail the testcase: they are listed in its <system-out>, one line each, and
 *   counted in the suite's <properties>;
 * - a rule that could not run is an <error> of its testcase.
 * Suite attributes count testcases, as JUnit does: `tests` rules, `failures` rules with an error-severity
 * violation, `errors` rules that could not run, `skipped` 0.
 */
export interface JunitOptions {
  /** The suite's name (default "faultline check"). */
  name?: string;
  timestamp?: Date;
}

export function junitXml(result: CheckResult, options: JunitOptions = {}): string {
  const name = options.name ?? 'faultline check';
  const timestamp = (options.timestamp ?? new Date()).toISOString().replace(/\.\d{3}Z$/, '');
  const failures = result.results.filter((r) => !r.error && r.violations.some((v) => v.severity === 'error')).length;
  const errors = result.results.filter((r) => r.error).length;
  const tests = result.results.length;
  const time = seconds(result.seconds);
  const out: string[] = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${attr(name)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0" time="${time}">`,
    `  <testsuite name="${attr(name)}" tests="${tests}" failures="${failures}" errors="${errors}" skipped="0" time="${time}" timestamp="${timestamp}">`,
    '    <properties>',
    ...(['error', 'warning', 'info'] as const).map((s) => `      <property name="violations.${s}" value="${result.summary.violations[s]}"/>`),
    '    </properties>',
  ];
  for (const r of result.results) out.push(...testcase(r));
  out.push('  </testsuite>', '</testsuites>', '');
  return out.join('\n');
}

function testcase(r: RuleResult): string[] {
  const open = `    <testcase name="${attr(r.rule.id)}" classname="faultline.compliance.${attr(r.rule.severity)}" file="${attr(displayPath(r.rule.file))}" time="${seconds(r.seconds)}"`;
  const lines: string[] = [];
  if (r.error) {
    lines.push(`      <error message="${attr(firstLine(r.error.message))}" type="${attr(r.error.code ?? 'RuleError')}">${text(`${displayPath(r.rule.file)}: ${r.error.message}`)}</error>`);
  }
  const errors = r.violations.filter((v) => v.severity === 'error');
  for (const v of errors) {
    lines.push(`      <failure message="${attr(v.message)}" type="${attr(r.rule.id)}">${text(details(v))}</failure>`);
  }
  const others = r.violations.filter((v) => v.severity !== 'error');
  const output = [r.rule.description, ...others.map((v) => `${v.severity}: ${v.message} [${v.entities.join(', ')}]`)];
  lines.push(`      <system-out>${text(output.join('\n'))}</system-out>`);
  return [`${open}>`, ...lines, '    </testcase>'];
}

function details(v: Violation): string {
  return `${v.message}\nentities: ${v.entities.join(', ')}`;
}

function firstLine(message: string): string {
  return message.split('\n')[0]!;
}

function seconds(value: number): string {
  return value.toFixed(3);
}

/** Characters XML 1.0 cannot hold at all, even escaped: replaced, so the document always parses. */
// eslint-disable-next-line no-control-regex
const INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function text(value: string): string {
  return value.replace(INVALID, '\uFFFD').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function attr(value: string): string {
  return text(value).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
