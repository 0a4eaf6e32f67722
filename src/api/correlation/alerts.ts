import { ALERT_STATES, atRiskNow } from '../../correlator/analysis.ts';
import type { AlertResolvers, AlertState, QueryResolvers } from '../generated/resolvers.ts';
import { refOf, refsOf } from '../topology/refs.ts';
import { alertRef, incidentOfAlert, firstOf, isoTime, upper, type AlertRef } from './refs.ts';


export const alerts: QueryResolvers['alerts'] = (_p, { state, host, first, after }, ctx) => {
  const analysis = ctx.correlation.analysis();
  const wanted = state ? ALERT_STATES[state.toLowerCase() as Lowercase<AlertState>] : undefined;
  const refs: AlertRef[] = [];
  for (const record of ctx.correlation.records().values()) {
    if (host != null && record.host !== host) continue;
    if (after != null && record.id <= after) continue;
    const ref = alertRef(record, analysis);
    if (!wanted || (ref.decision && wanted(ref.decision))) refs.push(ref);
  }
  refs.sort((a, b) => (a.record.id < b.record.id ? -1 : a.record.id > b.record.id ? 1 : 0));
  // In id order, `after` need not be an alert that still exists: the page goes on from where its id would be.
  return firstOf(refs, first);
};

const suppressed = ({ decision }: AlertRef) => decision?.verdict === 'suppressed';

export const Alert: AlertResolvers = {
  id: ({ record }) => record.id,
  host: ({ record }) => record.host,
  check: ({ record }) => record.check,
  entity: ({ decision, analysis }) => (decision && decision.entity >= 0 ? refOf(analysis.topology, decision.entity) : null),
  status: ({ record }) => upper(record.status),
  suppressed,
  suppressedBy: ({ decision, analysis }) =>
    refsOf(analysis.topology, (decision?.suppressedBy ?? []).flatMap((unit) => analysis.units[unit]?.entities ?? [])),
  reason: (ref) => (suppressed(ref) && ref.decision?.reason ? upper(ref.decision.reason) : null),
  mapped: ({ decision }) => decision !== undefined && decision.entity >= 0,
  mappedBy: ({ decision }) => upper(decision?.mappedBy ?? 'unmapped'),
  unknownEntity: ({ record, decision }) => (record.entity !== undefined && decision !== undefined && decision.mappedBy !== 'entity' ? record.entity : null),
  text: ({ record }) => record.text ?? null,
  runbook: ({ record }) => record.runbook ?? null,
  since: ({ record }) => isoTime(record.since),
  lastSeen: ({ record }) => isoTime(record.time),
  tags: ({ record }) => Object.entries(record.tags).map(([key, value]) => ({ key, value })),
  incident: (ref, _a, ctx) => incidentOfAlert(ctx, ref) ?? null,
  silencedBy: ({ record }, _a, ctx) => {
    const active = ctx.correlation.activeSilences();
    return active.of(record).map((id) => active.get(id)!);
  },
};

/** GraphQL `atRisk`: from the correlator's current decisions (cached until something changes). */
export const atRisk: QueryResolvers['atRisk'] = (_p, _a, ctx) => {
  const analysis = ctx.correlation.decide();
  const risk = atRiskNow(analysis);
  const t = analysis.topology;
  const refs = (indexes: number[]) => refsOf(t, t.idsOf(indexes).sort());
  return { services: refs(risk.services), critical: refs(risk.critical), groupsWithoutSpare: refs(risk.groups), holdingUp: refs(risk.holding) };
};
