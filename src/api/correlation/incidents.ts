import { acknowledge } from '../../correlator/acknowledge.ts';
import { addNote, noteText } from '../../correlator/notes.ts';
import { affectedTotal, rootAlertTotal, suppressedTotal, type Incident as StoredIncident } from '../../correlator/incident.ts';
import type { IncidentNoteResolvers, IncidentResolvers, MutationResolvers, QueryResolvers, StormResolvers, TimelineEntryResolvers } from '../generated/resolvers.ts';
import type { ApiContext } from '../context.ts';
import { refsOf } from '../topology/refs.ts';
import { teamsOf } from '../topology/refs.ts';
import { alertRefs, badInput, conflict, isoTime, firstOf, notFound, upper } from './refs.ts';

const newestFirst = (a: StoredIncident, b: StoredIncident) => b.openedAt - a.openedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export const incidents: QueryResolvers['incidents'] = (_p, { status, first, after }, ctx) => {
  // The incident `after` names keeps its place in the order even when its status changed since the page before.
  const from = after == null ? undefined : ctx.correlation.incidents.get(after)?.value;
  if (after != null && !from) throw badInput(`no incident ${after} to continue after (forgotten since); start again without after`, { argument: 'after' });
  const listed = [...ctx.correlation.incidents.values()]
    .map((e) => e.value)
    .filter((i) => (!status || upper(i.status) === status) && (!from || newestFirst(i, from) > 0))
    .sort(newestFirst);
  return firstOf(listed, first);
};

export const incident: QueryResolvers['incident'] = (_p, { id }, ctx) => ctx.correlation.incidents.get(id)?.value ?? null;

/** `acknowledgeIncident(id)`: the caller (its token's name) acknowledges; src/correlator/acknowledge.ts does it. */
export const acknowledgeIncident: MutationResolvers['acknowledgeIncident'] = async (_p, { id }, ctx) => {
  const { incidents: bucket, clock } = ctx.correlation;
  const result = await acknowledge({ incidents: bucket, nats: ctx.nats, clock, log: ctx.log }, id, ctx.principal.name);
  switch (result.outcome) {
    case 'unknown':
      throw notFound(`no incident ${id}`, { id });
    case 'resolved':
      throw badInput(`incident ${id} is resolved; there is nothing to acknowledge`, { id });
    case 'contended':
      throw conflict(`incident ${id} changed under every acknowledgement attempt in a row; try again`, { id });
    default:
      return result.incident;
  }
};

/** `addIncidentNote(id, text, tell)`: a note signed with the caller's token name; src/correlator/notes.ts writes it. */
export const addIncidentNote: MutationResolvers['addIncidentNote'] = async (_p, { id, text, tell }, ctx) => {
  const checked = noteText.safeParse(text);
  if (!checked.success) throw badInput(`text: ${checked.error.issues[0]!.message}`, { argument: 'text' });
  const { incidents: bucket, clock } = ctx.correlation;
  const result = await addNote({ incidents: bucket, nats: ctx.nats, clock, log: ctx.log }, id, ctx.principal.name, checked.data, tell ?? false);
  switch (result.outcome) {
    case 'unknown':
      throw notFound(`no incident ${id}`, { id });
    case 'resolved':
      throw badInput(`incident ${id} is resolved: it takes the note without tell, but its teams are not told any more`, { id, argument: 'tell' });
    case 'contended':
      throw conflict(`incident ${id} changed under every attempt in a row; try again`, { id });
    default:
      return result.incident;
  }
};

export const Incident: IncidentResolvers = {
  id: (i) => i.id,
  status: (i) => upper(i.status),
  root: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.root),
  rootIds: (i) => i.root,
  rootAlerts: (i, _a, ctx) => alertRefs(ctx.correlation, i.rootAlerts),
  rootAlertsCount: (i) => rootAlertTotal(i),
  suppressed: (i, _a, ctx) => alertRefs(ctx.correlation, i.suppressed),
  suppressedCount: (i) => suppressedTotal(i),
  affectedServices: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.affectedServices),
  affectedServicesCount: (i) => affectedTotal(i),
  servicesAtRisk: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.servicesAtRisk ?? []),
  criticalAtRisk: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.criticalAtRisk ?? []),
  groupsWithoutSpare: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.groupsWithoutSpare ?? []),
  holdingUp: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.holdingUp ?? []),
  servicesAtRiskCount: (i) => i.atRiskCounts?.servicesAtRisk ?? i.servicesAtRisk?.length ?? 0,
  criticalAtRiskCount: (i) => i.atRiskCounts?.criticalAtRisk ?? i.criticalAtRisk?.length ?? 0,
  groupsWithoutSpareCount: (i) => i.atRiskCounts?.groupsWithoutSpare ?? i.groupsWithoutSpare?.length ?? 0,
  holdingUpCount: (i) => i.atRiskCounts?.holdingUp ?? i.holdingUp?.length ?? 0,
  owners: (i, _a, ctx) => teamsOf(ctx.topology.current.topology, i.owners),
  stakeholders: (i, _a, ctx) => teamsOf(ctx.topology.current.topology, i.stakeholders),
  severity: (i) => upper(i.severity),
  openedAt: (i) => isoTime(i.openedAt),
  updatedAt: (i) => isoTime(i.updatedAt),
  acknowledgedAt: (i) => (i.acknowledgedAt === undefined ? null : isoTime(i.acknowledgedAt)),
  acknowledgedBy: (i) => i.acknowledgedBy ?? null,
  reminders: (i) => i.reminders ?? 0,
  remindedAt: (i) => (i.remindedAt === undefined ? null : isoTime(i.remindedAt)),
  resolvedAt: (i) => (i.resolvedAt === undefined ? null : isoTime(i.resolvedAt)),
  mergedInto: (i) => i.mergedInto ?? null,
  storm: (i) => (i.storm ? i : null),
  heldBy: (i, _a, ctx) => incidentsOf(ctx, [...new Set((i.heldBy ?? []).map((h) => h.storm))]),
  notes: (i) => i.notes ?? [],
  // The silences as they are now (an expired one is no longer listed, though the incident may not be re-planned yet).
  silencedBy: (i, _a, ctx) => (i.silencedBy ?? []).flatMap((id) => ctx.correlation.silences.get(id)?.value ?? []),
  told: (i) => !i.untold,
  timeline: (i) => i.timeline,
};

export const IncidentNote: IncidentNoteResolvers = {
  at: (n) => isoTime(n.at),
  told: (n) => n.told === true,
};

/** A storm resolves from its incident (the one with `storm` set). */
export const Storm: StormResolvers = {
  team: (i, _a, ctx) => (i.storm!.team === null ? null : (teamsOf(ctx.topology.current.topology, [i.storm!.team])[0] ?? null)),
  holds: (i) => (i.storm!.holds === 'stakeholder' ? 'STAKEHOLDER_NOTICES' : 'PAGES'),
  members: (i, _a, ctx) => incidentsOf(ctx, i.storm!.members),
  memberCount: (i) => i.storm!.memberCount,
  common: (i) => i.storm!.common ?? null,
};

/** The incidents with these ids that are still kept (a resolved one is forgotten after correlator.retention). */
const incidentsOf = (ctx: ApiContext, ids: readonly string[]): StoredIncident[] =>
  ids.flatMap((id) => {
    const stored = ctx.correlation.incidents.get(id)?.value;
    return stored ? [stored] : [];
  });

export const TimelineEntry: TimelineEntryResolvers = {
  at: (e) => isoTime(e.at),
  change: (e) => upper(e.change),
  text: (e) => e.text,
};
