import { impliedIndexes, type Topology } from '../engine/index.ts';

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

/** The next time (after `now`) a window starts or ends: the correlator re-decides then. */
export function nextMaintenanceChange(windows: Iterable<MaintenanceWindow>, now: number): number | undefined {
  let next: number | undefined;
  for (const w of windows) {
    for (const at of [w.start, w.end]) if (at > now && (next === undefined || at < next)) next = at;
  }
  return next;
}
