import type { AlertRecord } from '../../correlator/alert.ts';
import { atRiskNames } from '../../correlator/incident.ts';
import { ALERT_STATES, atRiskNow, type AlertDecision, type Analysis } from '../../correlator/analysis.ts';
import { incidentIndex, incidentOf } from '../../correlator/incident-index.ts';
import type { CorrelationView } from '../../correlator/view.ts';
import { formatDuration } from '../../config/duration.ts';
import { counted, table } from '../../compliance/table.ts';
import { connectAll, correlationState, loadRuntime, UsageError, type GlobalOptions } from '../runtime.ts';

/**
 * `faultline alerts`: the alerts as the correlator decides them now, from the same state (faultline-alerts,
 * incidents, maintenance windows) and the same graph: which fail, which of those are roots and which are
 * suppressed (by what), which are below the threshold, which hosts the graph does not know. GraphQL `alerts(state:)`
 * answers the same question.
 */

const IN_STATE: Record<string, (d: AlertDecision) => boolean> = { ...ALERT_STATES, all: () => true };

export interface AlertsOptions {
  state: string;
  host?: string;
  json?: boolean;
}

export async function alertsCommand(options: AlertsOptions, global: GlobalOptions): Promise<void> {
  const { loaded, log } = loadRuntime(global);
  const { state } = options;
  const wanted = Object.hasOwn(IN_STATE, state) ? IN_STATE[state]! : undefined;
  if (!wanted) throw new UsageError(`--state: "${state}" is not one of ${Object.keys(IN_STATE).join(', ')}`);
  const { config } = loaded;
  const connections = await connectAll(config, 'faultline-cli-alerts', { neo4jMayBeDown: true });
  let view: CorrelationView | undefined;
  try {
    view = await correlationState(connections, config, log);
    const analysis = view.analysis();
    const index = incidentIndex([...view.incidents.values()].map((e) => e.value));
    const listed = [...view.records().values()]
      .filter((r) => options.host === undefined || r.host === options.host)
      .map((record) => ({ record, decision: analysis.decisions.get(record.id) }))
      .filter((a): a is { record: AlertRecord; decision: AlertDecision } => a.decision !== undefined && wanted(a.decision))
      .sort((a, b) => rank(a.decision) - rank(b.decision) || b.record.since - a.record.since || a.record.id.localeCompare(b.record.id));
    const silences = view.activeSilences();
    const rows = listed.map(({ record, decision }) => ({ record, decision, incident: incidentOf(index, { record, decision, analysis })?.id, silencedBy: silences.of(record) }));
    if (options.json) {
      const out = rows.map(({ record, decision, incident, silencedBy }) => ({ ...record, verdict: decision.verdict, why: why(decision, analysis), ...(incident ? { incident } : {}), ...(silencedBy.length ? { silencedBy } : {}) }));
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    if (rows.length === 0) {
      process.stdout.write(state === 'firing' ? 'Nothing is failing.\n' : `No ${state === 'all' ? '' : `${state} `}alerts.\n`);
      return;
    }
    const now = Date.now();
    const cells = rows.map(({ record, decision, incident, silencedBy }) => [
      record.id,
      record.status + (record.stale ? ' (stale)' : ''),
      formatDuration(now - record.since),
      why(decision, analysis) + (silencedBy.length ? `, silenced (${silencedBy.join(', ')})` : ''),
      incident ?? '-',
      record.text ?? '',
    ]);
    process.stdout.write(`${table(['ALERT', 'STATUS', 'FOR', 'VERDICT', 'INCIDENT', 'TEXT'], cells)}\n`);
    const count = (v: AlertDecision['verdict']) => rows.filter((r) => r.decision.verdict === v).length;
    const parts = [`${count('root')} root`, `${count('suppressed')} suppressed`, `${count('active')} below the threshold`];
    if (state === 'all' || state === 'ok') parts.push(`${count('ok')} ok`);
    process.stdout.write(`${counted(rows.length, 'alert')}: ${parts.join(', ')}.\n`);
    const risk = atRiskNow(analysis);
    const ids = (indexes: number[]) => analysis.topology.idsOf(indexes).sort();
    const atRisk = atRiskNames(ids(risk.services), ids(risk.critical));
    if (atRisk.length > 0) {
      process.stdout.write(`At risk now: ${atRisk.join(', ')} (no spare left in ${ids(risk.groups).join(', ')}; held up by ${ids(risk.holding).join(', ')}).\n`);
    }
  } finally {
    view?.stop();
    await connections.close();
  }
}

/** Roots first, then suppressed, then below the threshold, then ok. */
function rank(d: AlertDecision): number {
  return { root: 0, suppressed: 1, active: 2, ok: 3 }[d.verdict];
}

/** The verdict as an operator reads it: what suppresses an alert, and whether the graph knows its entity. */
function why(d: AlertDecision, analysis: Analysis): string {
  const unmapped = d.entity < 0 ? ' (unmapped)' : '';
  if (d.verdict === 'suppressed') {
    if (d.reason === 'maintenance') return 'suppressed: maintenance';
    const by = [...new Set(d.suppressedBy.flatMap((u) => analysis.units[u]?.entities ?? []))];
    return `suppressed by ${by.slice(0, 3).join(', ')}${by.length > 3 ? `, … (${by.length})` : ''}`;
  }
  if (d.verdict === 'active') return `below the threshold${unmapped}`;
  return d.verdict + unmapped;
}
