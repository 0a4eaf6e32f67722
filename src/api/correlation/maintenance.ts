import { maintenanceDowntime } from '../../engine/index.ts';
import { concurrentDowntime, isActive, newWindow, WindowError, type ConcurrentDowntime, type MaintenanceWindow } from '../../correlator/maintenance.ts';
import type { ApiContext } from '../context.ts';
import type { ConcurrentDowntimeResolvers, MaintenanceWindowResolvers, MutationResolvers, QueryResolvers } from '../generated/resolvers.ts';
import { refsOf, teamsOf } from '../topology/refs.ts';
import { badInput, isoTime, notFound, type MaintenanceWindowRef } from './refs.ts';

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
 * and suppresses with reason maintenance from `start` on. The checks are `newWindow`'s.
 */
export const createMaintenanceWindow: MutationResolvers['createMaintenanceWindow'] = async (_p, { ids, start, end, reason }, ctx) => {
  let window: MaintenanceWindow;
  try {
    window = newWindow({ ids, start: Date.parse(start), end: Date.parse(end), reason }, ctx.topology.current.topology, ctx.correlation.clock(), ctx.principal.name);
  } catch (err) {
    if (err instanceof WindowError) throw badInput(err.message, err.ids ? { ids: err.ids } : {});
    throw err;
  }
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
  concurrent: ({ window }, _a, ctx) => concurrentWith(ctx, window),
};

/** What else is down during `plan` (a window, or the plan of one), from the correlator's current state. */
export function concurrentWith(ctx: ApiContext, plan: { entities: readonly string[]; start: number; end: number; id?: string }): ConcurrentDowntime {
  return concurrentDowntime(ctx.correlation.decide(), [...ctx.correlation.maintenance.values()].map((e) => e.value), plan);
}

export const ConcurrentDowntimeType: ConcurrentDowntimeResolvers = {
  failing: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.failing),
  windows: (c) => c.windows.map((window) => ({ window, cancelled: false })),
  combined: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.combined),
  services: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.services),
  stakeholders: (c, _a, ctx) => teamsOf(ctx.topology.current.topology, c.stakeholders),
  servicesDownAlready: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.servicesDownAlready),
  servicesAtRisk: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.servicesAtRisk),
  criticalAtRisk: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.criticalAtRisk),
  groupsWithoutSpare: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.groupsWithoutSpare),
  holdingUp: (c, _a, ctx) => refsOf(ctx.topology.current.topology, c.holdingUp),
};
