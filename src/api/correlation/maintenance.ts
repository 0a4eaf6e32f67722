import { randomBytes } from 'node:crypto';
import { maintenanceDowntime } from '../../engine/index.ts';
import { isActive, type MaintenanceWindow } from '../../correlator/maintenance.ts';
import type { MaintenanceWindowResolvers, MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { refsOf } from '../topology/refs.ts';
import { badInput, isoTime, notFound, type MaintenanceWindowRef } from './refs.ts';

/** Longer downtime is a decommission, not maintenance; the operator says so by creating another window. */
export const MAX_WINDOW_MS = 31 * 86_400_000;
/** How far ahead a window may start: further is a typo of the year more often than a plan. */
export const MAX_LEAD_MS = 366 * 86_400_000;
const MAX_IDS = 1_000;
const MAX_REASON = 1_000;

export const maintenanceWindows: QueryResolvers['maintenanceWindows'] = (_p, { active }, ctx) => {
  const now = ctx.correlation.clock();
  return [...ctx.correlation.maintenance.values()]
    .map((e) => e.value)
    .filter((w) => active === null || active === undefined || isActive(w, now) === active)
    .sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((window) => ({ window, cancelled: false }));
};

/**
 * Stores a window in `faultline-maintenance`; the correlator (and every API process) sees it through its mirror
 * and suppresses with reason maintenance from `start` on. Every id must be known to the topology now: a mistyped
 * certname would otherwise silence nothing while the operator believes it silenced.
 */
export const createMaintenanceWindow: MutationResolvers['createMaintenanceWindow'] = async (_p, { ids, start, end, reason }, ctx) => {
  const startMs = Date.parse(start);
  const endMs = Date.parse(end);
  const now = ctx.correlation.clock();
  if (endMs <= startMs) throw badInput('end must be after start');
  if (endMs <= now) throw badInput('end is in the past: the window would never be in force');
  if (endMs - startMs > MAX_WINDOW_MS) throw badInput(`a window lasts at most ${MAX_WINDOW_MS / 86_400_000} days`);
  if (startMs - now > MAX_LEAD_MS) throw badInput(`start is more than a year ahead (${start}): is the year right?`);
  if (ids.length === 0) throw badInput('ids must name at least one entity');
  if (ids.length > MAX_IDS) throw badInput(`at most ${MAX_IDS} ids per window`);
  if (reason && reason.length > MAX_REASON) throw badInput(`reason is longer than ${MAX_REASON} characters`);
  const topology = ctx.topology.current.topology;
  const unknown = [...new Set(ids.filter((id) => topology.indexOf(id) === undefined))];
  if (unknown.length > 0) {
    throw badInput(`unknown entit${unknown.length > 1 ? 'ies' : 'y'}: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}`, { ids: unknown });
  }

  const window: MaintenanceWindow = {
    id: `mw-${randomBytes(8).toString('hex')}`,
    entities: [...new Set(ids)],
    start: startMs,
    end: endMs,
    createdBy: ctx.principal.name,
    createdAt: now,
  };
  if (reason) window.reason = reason;
  await ctx.correlation.maintenance.put(window.id, window, undefined);
  ctx.log.info({ window: window.id, entities: window.entities, start, end, by: window.createdBy }, 'maintenance window created');
  return { window, cancelled: false };
};

/** Deletes the window: its suppression ends at once (the correlator re-decides on the change). */
export const cancelMaintenanceWindow: MutationResolvers['cancelMaintenanceWindow'] = async (_p, { id }, ctx) => {
  const stored = ctx.correlation.maintenance.get(id) ?? (await ctx.correlation.maintenance.fetch(id));
  if (!stored) throw notFound(`no maintenance window ${id}`, { id });
  await ctx.correlation.maintenance.delete(id);
  ctx.log.info({ window: id, by: ctx.principal.name }, 'maintenance window cancelled');
  return { window: stored.value, cancelled: true };
};

export const MaintenanceWindowType: MaintenanceWindowResolvers = {
  id: ({ window }) => window.id,
  entities: ({ window }, _a, ctx) => refsOf(ctx.topology.current.topology, window.entities),
  ids: ({ window }) => window.entities,
  start: ({ window }) => isoTime(window.start),
  end: ({ window }) => isoTime(window.end),
  reason: ({ window }) => window.reason ?? null,
  createdBy: ({ window }) => window.createdBy,
  active: ({ window, cancelled }: MaintenanceWindowRef, _a, ctx) => !cancelled && isActive(window, ctx.correlation.clock()),
  downtime: ({ window }, _a, ctx) => {
    const topology = ctx.topology.current.topology;
    return refsOf(topology, maintenanceDowntime(topology, window.entities).downtime);
  },
};
