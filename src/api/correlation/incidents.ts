import { KvConflictError } from '../../bus/kv-mirror.ts';
import { extendTimeline, publishIncidentChange, suppressedTotal, type Incident as StoredIncident } from '../../correlator/incident.ts';
import type { IncidentResolvers, MutationResolvers, QueryResolvers, TimelineEntryResolvers } from '../generated/resolvers.ts';
import type { ApiContext } from '../context.ts';
import { refsOf } from '../topology/refs.ts';
import { alertRefs, badInput, conflict, isoTime, firstOf, notFound, teamsOf, upper } from './refs.ts';

/** How often acknowledging re-reads and retries when the correlator writes the same incident meanwhile. */
const ACK_ATTEMPTS = 8;

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

/**
 * Marks the incident acknowledged by the caller: compare-and-set on the revision the mirror holds (the correlator
 * may be updating it at the same moment; its writes keep an acknowledgement, see reconciler.ts `merge`), then the
 * change on `faultline.incidents.<id>.acknowledged`. Acknowledging twice changes nothing the second time.
 */
export const acknowledgeIncident: MutationResolvers['acknowledgeIncident'] = async (_p, { id }, ctx) => {
  const { incidents: bucket, clock } = ctx.correlation;
  // Read from the bucket when this process's copy does not have it yet: the page for a new incident is sent
  // before the incident is written, and its owner may be quicker than the mirror.
  let stored = bucket.get(id) ?? (await bucket.fetch(id));
  for (let attempt = 0; attempt < ACK_ATTEMPTS; attempt++) {
    if (!stored) throw notFound(`no incident ${id}`, { id });
    const current = stored.value;
    if (current.status === 'resolved') throw badInput(`incident ${id} is resolved; there is nothing to acknowledge`, { id });
    if (current.status === 'acknowledged') return current;
    const now = clock();
    const by = ctx.principal.name;
    const next: StoredIncident = {
      ...current,
      status: 'acknowledged',
      acknowledgedAt: now,
      acknowledgedBy: by,
      updatedAt: now,
      timeline: extendTimeline(current.timeline, { at: now, change: 'acknowledged', text: `acknowledged by ${by}` }),
    };
    try {
      await bucket.put(id, next, stored.revision);
    } catch (err) {
      if (!(err instanceof KvConflictError)) throw err;
      stored = await bucket.fetch(id);
      continue;
    }
    ctx.log.info({ incident: id, by }, 'incident acknowledged');
    // Stored is acknowledged: a failure to announce it is logged, not reported as a failed acknowledgement (the
    // operator would try again and find it done, and the announcement would never come).
    await announce(ctx, next).catch((err: unknown) => ctx.log.error({ err, incident: id }, 'the acknowledgement is stored but was not published on faultline.incidents'));
    return next;
  }
  throw conflict(`incident ${id} changed under ${ACK_ATTEMPTS} acknowledgement attempts in a row; try again`, { id });
};

/** Publishes the acknowledgement, trying three times: the message id makes a repeat harmless. */
async function announce(ctx: Pick<ApiContext, 'nats'>, incident: StoredIncident): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await publishIncidentChange(ctx.nats, incident, 'acknowledged');
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

export const Incident: IncidentResolvers = {
  id: (i) => i.id,
  status: (i) => upper(i.status),
  root: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.root),
  rootIds: (i) => i.root,
  rootAlerts: (i, _a, ctx) => alertRefs(ctx.correlation, i.rootAlerts),
  suppressed: (i, _a, ctx) => alertRefs(ctx.correlation, i.suppressed),
  suppressedCount: (i) => suppressedTotal(i),
  affectedServices: (i, _a, ctx) => refsOf(ctx.topology.current.topology, i.affectedServices),
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
  timeline: (i) => i.timeline,
};

export const TimelineEntry: TimelineEntryResolvers = {
  at: (e) => isoTime(e.at),
  change: (e) => upper(e.change),
  text: (e) => e.text,
};
