import { GraphQLError } from 'graphql';
import type { Topology } from '../../engine/index.ts';
import { alertKey, type AlertRecord } from '../../correlator/alert.ts';
import type { AlertDecision, Analysis } from '../../correlator/analysis.ts';
import type { Incident } from '../../correlator/incident.ts';
import { incidentIndex, incidentOf, type IncidentIndex } from '../../correlator/incident-index.ts';
import type { MaintenanceWindow } from '../../correlator/maintenance.ts';
import type { CorrelationView } from '../../correlator/view.ts';

/**
 * An alert as resolvers pass it around: its record and the analysis that decided it. Entity indexes in the
 * decision point into `analysis.topology`, the snapshot the decision was taken on.
 */
export interface AlertRef {
  record: AlertRecord;
  analysis: Analysis;
  /** Undefined only if the record is newer than the analysis (it never is: the view recomputes on change). */
  decision: AlertDecision | undefined;
}

/** A maintenance window; `cancelled` when it is the answer of cancelMaintenanceWindow (no longer in force). */
export interface MaintenanceWindowRef {
  window: MaintenanceWindow;
  cancelled: boolean;
}

export const alertRef = (record: AlertRecord, analysis: Analysis): AlertRef => ({ record, analysis, decision: analysis.decisions.get(record.id) });

/** Refs for alert ids the view holds (ids whose state is gone are dropped). */
export function alertRefs(view: CorrelationView, ids: readonly string[]): AlertRef[] {
  const analysis = view.analysis();
  const refs: AlertRef[] = [];
  for (const id of ids) {
    const record = view.alerts.get(alertKey(id))?.value;
    if (record) refs.push(alertRef(record, analysis));
  }
  return refs;
}

const incidentIndexes = new WeakMap<object, IncidentIndex>();

export function incidentOfAlert(ctx: { correlation: CorrelationView }, ref: AlertRef): Incident | undefined {
  let index = incidentIndexes.get(ctx);
  if (!index) {
    index = incidentIndex([...ctx.correlation.incidents.values()].map((e) => e.value));
    incidentIndexes.set(ctx, index);
  }
  return incidentOf(index, ref);
}

export const isoTime = (ms: number) => new Date(ms).toISOString();

/** The internal lower-case enum value as the GraphQL enum value. */
export const upper = <T extends string>(value: T) => value.toUpperCase() as Uppercase<T>;

export const badInput = (message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code: 'BAD_USER_INPUT', ...extensions } });

export const notFound = (message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code: 'NOT_FOUND', ...extensions } });

/** The thing changed under every attempt to change it: worth trying again a moment later. */
export const conflict = (message: string, extensions: Record<string, unknown> = {}) =>
  new GraphQLError(message, { extensions: { code: 'CONFLICT', ...extensions } });

/**
 * The first `first` items (all of them without it) of a list already cut to what comes after its `after`. The
 * cursor is an id of the page before, not a position, so pages hold still while items come and go before it.
 */
export function firstOf<T>(items: T[], first: number | null | undefined): T[] {
  if (first == null) return items;
  if (first < 0) throw badInput(`first must be 0 or more, not ${first}`, { argument: 'first' });
  return items.slice(0, first);
}
