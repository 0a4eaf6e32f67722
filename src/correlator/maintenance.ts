import { randomBytes } from 'node:crypto';
import { combinedDowntime, impliedIndexes, type CombinedDowntime, type Topology } from '../engine/index.ts';
import type { Analysis } from './analysis.ts';

/**
 * A maintenance window (design section 5): while it is active, alerts on its entities and on everything implied
 * by them alone are suppressed with reason `maintenance`. Kept in the KV bucket `faultline-maintenance` under
 * its id; cancelling deletes it.
 */
export interface MaintenanceWindow {
  id: string;
  /** Entity ids put in downtime. */
  entities: string[];
  /** Milliseconds since the epoch; active in [start, end). */
  start: number;
  end: number;
  reason?: string;
  createdBy: string;
  createdAt: number;
}

export const isActive = (w: MaintenanceWindow, now: number) => w.start <= now && now < w.end;

/** implied(entities of the windows active at `now`) as a mask over entity indexes; undefined when none is active. */
export function maintenanceMask(topology: Topology, windows: Iterable<MaintenanceWindow>, now: number): Uint8Array | undefined {
  const seeds: number[] = [];
  for (const w of windows) {
    if (!isActive(w, now)) continue;
    for (const id of w.entities) {
      const v = topology.indexOf(id);
      if (v !== undefined) seeds.push(v);
    }
  }
  if (seeds.length === 0) return undefined;
  const mask = new Uint8Array(topology.size);
  for (const v of impliedIndexes(topology, seeds)) mask[v] = 1;
  return mask;
}

/** The next time (after `now`) a window (or a silence) starts or ends: the correlator re-decides then. */
export function nextStartOrEnd(spans: Iterable<{ start: number; end: number }>, now: number): number | undefined {
  let next: number | undefined;
  for (const w of spans) {
    for (const at of [w.start, w.end]) if (at > now && (next === undefined || at < next)) next = at;
  }
  return next;
}

/** Longer downtime is a decommission, not maintenance; the operator says so by creating another window. */
export const MAX_WINDOW_MS = 31 * 86_400_000;
/** How far ahead a window may start: further is a typo of the year more often than a plan. */
export const MAX_LEAD_MS = 366 * 86_400_000;
const MAX_IDS = 1_000;
const MAX_REASON = 1_000;

/**
 * What is wrong with [start, end) for a maintenance window or a silence made at `now`, if anything: both are
 * bounded alike (at most 31 days, starting within a year).
 */
export function spanProblem(start: number, end: number, now: number, noun: 'window' | 'silence'): string | undefined {
  if (!Number.isFinite(start) || !Number.isFinite(end)) return 'start and end must be times';
  if (end <= start) return 'end must be after start';
  if (end <= now) return `end is in the past: the ${noun} would never be in force`;
  if (end - start > MAX_WINDOW_MS) return `a ${noun} lasts at most ${MAX_WINDOW_MS / 86_400_000} days`;
  if (start - now > MAX_LEAD_MS) return `start is more than a year ahead (${new Date(start).toISOString()}): is the year right?`;
  return undefined;
}

/** A window that cannot be: the message says why; `ids` the entities the topology does not know. */
export class WindowError extends Error {
  override name = 'WindowError';
  constructor(
    message: string,
    readonly ids?: string[],
  ) {
    super(message);
  }
}

export interface WindowRequest {
  ids: readonly string[];
  start: number;
  end: number;
  reason?: string | null | undefined;
}

/**
 * A new window, checked (GraphQL's createMaintenanceWindow and `faultline maintenance start` both make theirs
 * here). Every id must be known to the topology now: a mistyped certname would otherwise silence nothing while the
 * operator believes it silenced. Throws a WindowError saying what is wrong.
 */
export function newWindow(request: WindowRequest, topology: Topology, now: number, by: string): MaintenanceWindow {
  const { ids, start, end, reason } = request;
  const problem = spanProblem(start, end, now, 'window');
  if (problem) throw new WindowError(problem);
  if (ids.length === 0) throw new WindowError('ids must name at least one entity');
  if (ids.length > MAX_IDS) throw new WindowError(`at most ${MAX_IDS} ids per window`);
  if (reason && reason.length > MAX_REASON) throw new WindowError(`reason is longer than ${MAX_REASON} characters`);
  const unknown = [...new Set(ids.filter((id) => topology.indexOf(id) === undefined))];
  if (unknown.length > 0) {
    throw new WindowError(`unknown entit${unknown.length > 1 ? 'ies' : 'y'}: ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}`, unknown);
  }
  const window: MaintenanceWindow = { id: `mw-${randomBytes(8).toString('hex')}`, entities: [...new Set(ids)], start, end, createdBy: by, createdAt: now };
  if (reason) window.reason = reason;
  return window;
}

/**
 * What else is down while a window is in force, and what comes down only because of the two together: the
 * question an operator asks before taking db2 down while db1 is failing, or while someone else has db1 in a
 * window of their own. `failing` is what fails now (a window that starts later is told "if it still fails then").
 */
export interface ConcurrentDowntime extends CombinedDowntime {
  /** The root causes failing now, outside any maintenance window. */
  failing: string[];
  /** The other windows in force at some time between the window's start and end. */
  windows: MaintenanceWindow[];
}

export function concurrentDowntime(
  analysis: Analysis,
  windows: Iterable<MaintenanceWindow>,
  plan: { entities: readonly string[]; start: number; end: number; id?: string },
): ConcurrentDowntime {
  const { topology } = analysis;
  const overlapping = [...windows].filter((w) => w.id !== plan.id && w.start < plan.end && plan.start < w.end).sort((a, b) => a.start - b.start || (a.id < b.id ? -1 : 1));
  const failing = analysis.units.filter((u) => u.mapped && !u.maintenance).flatMap((u) => u.entities);
  // Down is down: every failing entity counts, in a window or not, root or suppressed.
  const alongside = [...topology.idsOf(analysis.failing), ...overlapping.flatMap((w) => w.entities)];
  return { failing, windows: overlapping, ...combinedDowntime(topology, plan.entities, alongside) };
}
