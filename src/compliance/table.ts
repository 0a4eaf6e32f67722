import { displayPath, type RuleSeverity } from './rules.ts';
import type { CheckResult } from './run.ts';

/**
 * The terminal report of `faultline check`: the violations (errors first), then one line per rule with its
 * result, then a summary line. Plain text, no colours, no truncation: it reads the same in a CI log.
 */
export function formatReport(result: CheckResult): string {
  const out: string[] = [];
  const rank: Record<RuleSeverity, number> = { error: 0, warning: 1, info: 2 };
  const violations = [...result.violations].sort((a, b) => rank[a.severity] - rank[b.severity]);
  if (violations.length > 0) {
    out.push(table(['SEVERITY', 'RULE', 'MESSAGE'], violations.map((v) => [v.severity, v.rule, v.message.replace(/\s*\n\s*/g, ' ')])), '');
  }
  out.push(
    table(
      ['RULE', 'SEVERITY', 'RESULT'],
      result.results.map((r) => [
        r.rule.id,
        r.rule.severity,
        r.error
          ? `FAILED (${displayPath(r.rule.file)}): ${oneLine(r.error.code ? `${r.error.code}: ${r.error.message}` : r.error.message)}`
          : r.violations.length === 0
            ? 'ok'
            : counted(r.violations.length, 'violation'),
      ]),
    ),
    '',
    summaryLine(result),
  );
  return `${out.join('\n')}\n`;
}

export function summaryLine(result: CheckResult): string {
  const { summary } = result;
  const counts = (['error', 'warning', 'info'] as const)
    .filter((s) => summary.violations[s] > 0)
    .map((s) => counted(summary.violations[s], s));
  const total = result.violations.length;
  return (
    `${counted(summary.rules, 'rule')}: ${summary.passed} passed, ${summary.violated} with violations, ${summary.failed} failed; ` +
    `${counted(total, 'violation')}${counts.length > 0 ? ` (${counts.join(', ')})` : ''} in ${result.seconds.toFixed(2)} s`
  );
}

/** "1 team", "3 teams", "0 entities": a count with its noun. */
export function counted(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** Columns padded to their widest cell; the last column is not padded. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

function oneLine(text: string): string {
  const first = text.split('\n')[0]!.trim();
  return first.length > 200 ? `${first.slice(0, 199)}…` : first;
}
