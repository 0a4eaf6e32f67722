import type { AlertRecord } from './alert.ts';
import type { AlertDecision, Analysis } from './analysis.ts';
import { byOpening, listsPart, type Incident } from './incident.ts';
import { matchUnits } from './plan.ts';

/**
 * Which open or acknowledged incident an alert belongs to, built once per request: a list of alerts each asking for
 * its incident costs one pass over the incidents, not one per alert.
 */
export interface IncidentIndex {
  /** Alert id → the incident listing it as a root alert or as suppressed (the newest, should two ever list it). */
  byAlert: Map<string, Incident>;
  /** The open and acknowledged incidents, oldest first. */
  current: Incident[];
  /** Whether some incident lists only part of the alerts it suppresses (see `listsPart`). */
  truncated: boolean;
}

export function incidentIndex(incidents: Iterable<Incident>): IncidentIndex {
  const current = [...incidents].filter((i) => i.status !== 'resolved').sort(byOpening);
  const byAlert = new Map<string, Incident>();
  for (const incident of current) {
    for (const id of incident.rootAlerts) byAlert.set(id, incident);
    for (const id of incident.suppressed) byAlert.set(id, incident);
  }
  return { byAlert, current, truncated: current.some(listsPart) };
}

/**
 * The incident of an alert. An alert past an incident's listed ones is found through its unit (a root alert) or the
 * units that suppress it, matched to incidents as the planner matches them (`matchUnits`).
 */
export function incidentOf(index: IncidentIndex, { record, decision, analysis }: { record: AlertRecord; decision: AlertDecision | undefined; analysis: Analysis }): Incident | undefined {
  const listed = index.byAlert.get(record.id);
  if (listed || !index.truncated) return listed;
  if (decision?.verdict === 'root' && decision.unit !== undefined) {
    const incident = unitIncidents(index, analysis)[decision.unit];
    return incident && listsPart(incident) ? incident : undefined;
  }
  if (decision?.verdict !== 'suppressed') return undefined;
  const ofUnit = unitIncidents(index, analysis);
  let found: Incident | undefined;
  for (const u of decision.suppressedBy) {
    const incident = ofUnit[u];
    if (incident && listsPart(incident) && (!found || byOpening(found, incident) < 0)) found = incident;
  }
  return found;
}

const unitMatches = new WeakMap<IncidentIndex, { analysis: Analysis; incidents: (Incident | undefined)[] }>();

function unitIncidents(index: IncidentIndex, analysis: Analysis): (Incident | undefined)[] {
  const cached = unitMatches.get(index);
  if (cached?.analysis === analysis) return cached.incidents;
  const incidents = matchUnits(analysis.units, index.current);
  unitMatches.set(index, { analysis, incidents });
  return incidents;
}
