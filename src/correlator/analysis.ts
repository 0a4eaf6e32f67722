import { atRisk, explainUnits, firstFrom, rootIndexes, type AtRisk, type LiveRoots, type RootUnitIndexes, type Topology, type UnitsChange } from '../engine/index.ts';
import type { AlertRecord } from './alert.ts';
import { SEVERITY_RANK, type Status } from './event.ts';
import type { MappedBy } from './mapping.ts';
import type { PlacedAlerts } from './placed.ts';

/**
 * The decision of design section 5 over the current alert state, as a pure function: which alerts are roots,
 * which are suppressed and by what (a root, or maintenance), and which root units there are. The engine does the
 * graph work (`rootIndexes`, or `LiveRoots` when the caller keeps one: the same answer, kept up to date instead of
 * recomputed); this module only maps alerts onto it and reads the answer back.
 *
 * F is the set of entities with an alert at or above the threshold. Alerts on the same entity share its fate.
 * An alert no mapping places on the graph is a root of its own, one unit per unknown host: unmapped, never dropped.
 */

/** Prefixes the key of an unmapped host's unit: `unmapped:<host>`. */
const UNMAPPED_KEY = 'unmapped:';

export interface RootUnit {
  /** Stable name of the unit: its entity ids (or `unmapped:<host>`), sorted, joined by newlines. */
  key: string;
  /** Entity indexes (empty for an unmapped unit). */
  indexes: number[];
  /** Entity ids (the host name for an unmapped unit). */
  entities: string[];
  /** Failing alert ids on the unit. */
  alerts: string[];
  /** All of the unit's entities lie in an active maintenance window's downtime: it pages nobody. */
  maintenance: boolean;
  mapped: boolean;
  /** The worst status of its alerts. */
  severity: Status;
  /** When its first alert started failing (the settle window counts from here at the earliest). */
  since: number;
}

export type Verdict =
  /** Nothing wrong. */
  | 'ok'
  /** Failing, and nothing else failing explains it. */
  | 'root'
  /** On an entity a root (or maintenance) takes down: shown, pages nobody. */
  | 'suppressed'
  /** Not ok, below the threshold, and not explained: shown, not correlated. */
  | 'active';

export interface AlertDecision {
  id: string;
  status: Status;
  mappedBy: MappedBy;
  /** Entity index, -1 when unmapped. */
  entity: number;
  failing: boolean;
  verdict: Verdict;
  reason?: 'dependency' | 'maintenance';
  /** Root: the unit it belongs to. */
  unit?: number;
  /** Suppressed by a dependency: the units that explain it (indexes into `units`). */
  suppressedBy: number[];
}

/** The alerts one asks for (GraphQL `alerts(state:)`, `faultline alerts --state`): firing is any status but ok, whatever was decided. */
export const ALERT_STATES = {
  firing: (d: AlertDecision) => d.status !== 'ok',
  root: (d: AlertDecision) => d.verdict === 'root',
  suppressed: (d: AlertDecision) => d.verdict === 'suppressed',
  ok: (d: AlertDecision) => d.status === 'ok',
} as const;

export interface Analysis {
  topology: Topology;
  units: RootUnit[];
  decisions: Map<string, AlertDecision>;
  /** implied(F) as a membership mask over entity indexes. */
  down: Uint8Array;
  /** Whether `suppressedBy` (and the reasons that depend on it) are filled in: see `attribute`. */
  attributed: boolean;
  /** @internal what `attribute` needs. */
  failing: number[];
  maintenance: Uint8Array | undefined;
}

export interface AnalysisInput {
  /** The alerts, the failing ones placed on the graph (kept up to date by the caller, or built for one analysis). */
  alerts: PlacedAlerts;
  /** implied(entities in active maintenance windows), as a mask over entity indexes (or undefined: none). */
  maintenance?: Uint8Array | undefined;
  /** Kept by the caller across analyses of one topology: only what changed since the last one is worked out. */
  live?: LiveRoots | undefined;
}

export function analyse({ alerts, maintenance, live }: AnalysisInput): Analysis {
  const { mapper } = alerts;
  const topology = mapper.topology;
  const bar = SEVERITY_RANK[alerts.threshold];
  const failing = alerts.failingEntities();
  // A snapshot: records are replaced, never changed, so holding them keeps what was decided on.
  const snapshot = [...alerts.records.values()];

  // Which units are roots is all a verdict needs; who suppresses what (explain, the walks down) is for the
  // planner and the API, and costs more: `attribute` adds it when asked.
  const result = graphWork(topology, alerts, failing, live);
  const down = result.down;
  const inMaintenance = (v: number) => maintenance !== undefined && maintenance[v] === 1;

  // A copy: mappedUnits patches the list it handed back last time, and unmapped units follow the mapped ones.
  const units: RootUnit[] = mappedUnits(topology, result, alerts, maintenance).slice();
  for (const [host, hostAlerts] of [...alerts.unmapped()].sort(([a], [b]) => a.localeCompare(b))) {
    const list = [...hostAlerts.values()];
    units.push({ key: `${UNMAPPED_KEY}${host}`, indexes: [], entities: [host], alerts: list.map((a) => a.id).sort(), maintenance: false, mapped: false, ...worstAndFirst(list) });
  }

  // The verdict of every alert follows from the units and the down set; it is worked out when first read (the
  // planner, the API, the metrics), not after every batch of events.
  let decisions: Map<string, AlertDecision> | undefined;
  const verdicts = (): Map<string, AlertDecision> => {
    decisions = new Map();
    const unitOfEntity = new Map<number, number>();
    units.forEach((u, i) => u.indexes.forEach((v) => unitOfEntity.set(v, i)));
    const unmappedUnit = new Map(units.flatMap((u, i): [string, number][] => (u.mapped ? [] : [[u.entities[0]!, i]])));
    for (const alert of snapshot) {
      const { entity, by } = mapper.map(alert);
      const failingNow = SEVERITY_RANK[alert.status] >= bar;
      const d: AlertDecision = { id: alert.id, status: alert.status, mappedBy: by, entity, failing: failingNow, verdict: alert.status === 'ok' ? 'ok' : 'active', suppressedBy: [] };
      decisions.set(alert.id, d);
      if (d.verdict === 'ok') continue;
      if (entity < 0) {
        if (failingNow) Object.assign(d, { verdict: 'root', unit: unmappedUnit.get(alert.host) });
        continue;
      }
      const unit = failingNow ? unitOfEntity.get(entity) : undefined;
      if (unit !== undefined) {
        if (units[unit]!.maintenance) Object.assign(d, { verdict: 'suppressed', reason: 'maintenance' });
        else Object.assign(d, { verdict: 'root', unit });
        continue;
      }
      if (!down[entity] && !inMaintenance(entity)) continue; // a warning nothing explains: active
      d.verdict = 'suppressed';
      d.reason = inMaintenance(entity) ? 'maintenance' : 'dependency';
    }
    return decisions;
  };
  const analysis: Analysis = {
    topology,
    units,
    get decisions() {
      return decisions ?? verdicts();
    },
    down,
    attributed: false,
    failing,
    maintenance,
  };
  // Suppressed only by roots under maintenance is "maintenance": that needs the attribution. Without a window in
  // force no unit is under maintenance, and the 500-odd units are not even looked at.
  if (maintenance !== undefined && units.some((u) => u.maintenance)) attribute(analysis);
  return analysis;
}

/**
 * The root units of the engine's units. After an analysis of the same alerts with no window in force, only the
 * units holding an entity whose alerts changed since, and the units the engine did not hand back last time, are
 * built; the others are kept (LiveRoots hands back the same unit objects for what a change did not reach, in the
 * same order: by first entity): the last list is patched where the engine's changed since that analysis (binary
 * search, as LiveRoots patches its own). Otherwise every unit is checked (`rootUnit`).
 */
const lastBuilt = new WeakMap<
  PlacedAlerts,
  { generation: number; windows: boolean; unitAt: Map<number, RootUnitIndexes>; engine: RootUnitIndexes[]; units: RootUnit[] }
>();
function mappedUnits(
  topology: Topology,
  { units: engine, change }: { units: RootUnitIndexes[]; change?: UnitsChange | undefined },
  alerts: PlacedAlerts,
  maintenance: Uint8Array | undefined,
): RootUnit[] {
  const last = lastBuilt.get(alerts);
  const windows = maintenance !== undefined;
  const changed = last && !windows && !last.windows ? alerts.entitiesChangedSince(last.generation) : undefined;
  // The unit each entity was last built in: units are disjoint, so an entity's current unit, if it has one, was
  // built after any other unit that held it.
  const patch = changed !== undefined && change?.before === last!.engine;
  // Checked whole, the map is made again from the engine's units: no entry outlives its unit.
  const unitAt = patch ? last!.unitAt : new Map<number, RootUnitIndexes>();
  const build = (u: RootUnitIndexes) => {
    for (const v of u.entities) unitAt.set(v, u);
    return buildUnit(topology, u, alerts, maintenance);
  };
  let units: RootUnit[];
  if (patch) {
    // The same edits as the engine's list: `order` follows them, so positions in it are positions in `units`.
    const order = last!.engine.slice();
    units = last!.units.slice();
    for (const u of change.gone) {
      // Forgotten, so that a unit gone for good (and what was built for it) can be collected.
      for (const v of u.entities) if (unitAt.get(v) === u) unitAt.delete(v);
      const i = firstFrom(order, u.entities[0]!);
      if (order[i] !== u) continue;
      order.splice(i, 1);
      units.splice(i, 1);
    }
    // Units whose alerts changed are built again in place, once each.
    const stale = new Set<RootUnitIndexes>();
    for (const v of changed) {
      const u = unitAt.get(v);
      if (u) stale.add(u);
    }
    for (const u of stale) {
      const i = firstFrom(order, u.entities[0]!);
      if (order[i] === u) units[i] = build(u);
    }
    for (const u of change.added) {
      const i = firstFrom(order, u.entities[0]!);
      order.splice(i, 0, u);
      units.splice(i, 0, build(u));
    }
  } else {
    units = engine.map((u) => rootUnit(topology, u, alerts, maintenance));
    for (const u of engine) for (const v of u.entities) unitAt.set(v, u);
  }
  lastBuilt.set(alerts, { generation: alerts.generation, windows, unitAt, engine, units });
  return units;
}

/** Root units as built, per engine unit, with the alerts and generation they were built from. */
const built = new WeakMap<RootUnitIndexes, { unit: RootUnit; alerts: PlacedAlerts; generation: number }>();

/**
 * The root unit of an engine unit: the one built last from these alerts when no window is in force, then or now,
 * and no alert on its entities changed since (a window changes `maintenance` without changing an alert), else
 * built again.
 */
function rootUnit(topology: Topology, u: RootUnitIndexes, alerts: PlacedAlerts, maintenance: Uint8Array | undefined): RootUnit {
  const known = maintenance === undefined ? built.get(u) : undefined;
  if (known && known.alerts === alerts && !known.unit.maintenance && !u.entities.some((v) => alerts.changedSince(v, known.generation))) return known.unit;
  return buildUnit(topology, u, alerts, maintenance);
}

function buildUnit(topology: Topology, u: RootUnitIndexes, alerts: PlacedAlerts, maintenance: Uint8Array | undefined): RootUnit {
  const { indexes, entities, key } = unitNames(topology, u);
  const unitAlerts = indexes.flatMap((v) => [...alerts.failingOn(v)]);
  const unit: RootUnit = {
    key,
    indexes,
    entities,
    alerts: unitAlerts.map((a) => a.id).sort(),
    maintenance: maintenance !== undefined && indexes.every((v) => maintenance[v] === 1),
    mapped: true,
    ...worstAndFirst(unitAlerts),
  };
  built.set(u, { unit, alerts, generation: alerts.generation });
  return unit;
}

/**
 * Fills in who suppresses each suppressed alert (the engine's explanation for failing ones, a walk down through
 * what is down for the others) and the reasons that follow from it. Idempotent; returns the analysis.
 */
export function attribute(analysis: Analysis): Analysis {
  if (analysis.attributed) return analysis;
  const { topology, units, decisions, down, maintenance } = analysis;
  const inMaintenance = (v: number) => maintenance !== undefined && maintenance[v] === 1;
  const engineUnits = units.filter((u) => u.mapped).map((u, component) => ({ component, entities: Int32Array.from(u.indexes) }));
  const explainedBy = explainUnits(topology, analysis.failing, engineUnits, down);
  const unitAt = new Int32Array(topology.size).fill(-1);
  units.forEach((u, i) => u.indexes.forEach((v) => (unitAt[v] = i)));
  // The walks share typed-array scratch (a stamp per walk) and are memoised per start entity.
  const walk = { seen: new Int32Array(topology.size), stamp: 0, queue: new Int32Array(topology.size) };
  const belowMemo = new Map<number, number[]>();
  const below = (v: number) => {
    let found = belowMemo.get(v);
    if (!found) belowMemo.set(v, (found = unitsBelow(topology, v, down, unitAt, walk)));
    return found;
  };
  for (const d of decisions.values()) {
    if (d.verdict !== 'suppressed' || d.entity < 0 || unitAt[d.entity]! >= 0) continue;
    // Mapped units come first in `units`, in the engine's order: its unit indexes are ours.
    const by = d.failing ? (explainedBy.get(d.entity) ?? []) : down[d.entity] ? below(d.entity) : [];
    d.suppressedBy = by;
    d.reason = inMaintenance(d.entity) || (by.length > 0 && by.every((i) => units[i]!.maintenance)) ? 'maintenance' : 'dependency';
  }
  analysis.attributed = true;
  return analysis;
}

/**
 * A unit's entities sorted, their ids and its key: worked out once per engine unit (LiveRoots hands back the same
 * unit objects for the components a change did not reach).
 */
const names = new WeakMap<RootUnitIndexes, { indexes: number[]; entities: string[]; key: string }>();
function unitNames(topology: Topology, unit: RootUnitIndexes): { indexes: number[]; entities: string[]; key: string } {
  let found = names.get(unit);
  if (!found) {
    const indexes = Array.from(unit.entities).sort((a, b) => a - b);
    const entities = topology.idsOf(indexes);
    names.set(unit, (found = { indexes, entities, key: [...entities].sort().join('\n') }));
  }
  return found;
}

/** The entity ids a unit key names (`unitNames`); none for the unit of an unmapped host. */
export function entitiesOfKey(key: string): string[] {
  return key.startsWith(UNMAPPED_KEY) ? [] : key.split('\n');
}

/** The alerts (and their generation) each LiveRoots was last brought up to by `graphWork`, after how many updates. */
const liveAt = new WeakMap<LiveRoots, { alerts: PlacedAlerts; generation: number; updates: number }>();

/** The root units of F and implied(F) as a mask (this analysis's own: a LiveRoots mask is copied). */
function graphWork(topology: Topology, alerts: PlacedAlerts, failing: number[], live: LiveRoots | undefined): { units: RootUnitIndexes[]; down: Uint8Array; change?: UnitsChange } {
  if (live) {
    if (live.topology !== topology) throw new Error('analyse: LiveRoots of another topology');
    // Only the entities whose failing alerts changed since, when nobody else moved this LiveRoots meanwhile.
    const last = liveAt.get(live);
    const changed = last?.alerts === alerts && last.updates === live.updates ? alerts.entitiesChangedSince(last.generation) : undefined;
    const state = changed ? live.apply(changed, (v) => alerts.isFailing(v)) : live.update(failing);
    liveAt.set(live, { alerts, generation: alerts.generation, updates: live.updates });
    return { units: state.units, down: state.down.slice(), change: state.change };
  }
  const result = rootIndexes(topology, failing, { explain: false });
  const down = new Uint8Array(topology.size);
  for (const v of result.down) down[v] = 1;
  return { units: result.units, down };
}

function worstAndFirst(alerts: AlertRecord[]): { severity: Status; since: number } {
  let severity: Status = 'ok';
  let since = Infinity;
  for (const a of alerts) {
    if (SEVERITY_RANK[a.status] > SEVERITY_RANK[severity]) severity = a.status;
    since = Math.min(since, a.since);
  }
  return { severity, since };
}

/**
 * The root units a down entity that is not itself failing hangs from (a warning on something a root takes down):
 * a walk down its hard dependencies and, for groups, members, through down entities, stopping at units.
 */
function unitsBelow(topology: Topology, start: number, down: Uint8Array, unitAt: Int32Array, walk: { seen: Int32Array; stamp: number; queue: Int32Array }): number[] {
  const { hardDeps, members, downAt } = topology;
  const { seen, queue } = walk;
  const stamp = ++walk.stamp;
  const found = new Set<number>();
  seen[start] = stamp;
  queue[0] = start;
  let tail = 1;
  const visit = (csr: { offsets: Int32Array; targets: Int32Array }, u: number) => {
    for (let i = csr.offsets[u]!, end = csr.offsets[u + 1]!; i < end; i++) {
      const v = csr.targets[i]!;
      if (seen[v] === stamp || !down[v]) continue;
      seen[v] = stamp;
      if (unitAt[v]! >= 0) found.add(unitAt[v]!);
      else queue[tail++] = v;
    }
  };
  for (let head = 0; head < tail; head++) {
    const u = queue[head]!;
    visit(hardDeps, u);
    if (downAt[u]! > 0) visit(members, u);
  }
  return [...found].sort((a, b) => a - b);
}

/**
 * What a root unit takes part in taking down: the down entities (in implied(F)) reached from it by walking up
 * through down entities (hard dependents, and groups it is a member of), the unit included. Not implied(unit)
 * alone: when two roots together take a service down (both MySQLs of a redundant pair), each one's incident names
 * the service, so its owners hear of it whichever root they look at. O(what it reaches).
 */
export function downBecauseOf(analysis: Analysis, unit: Pick<RootUnit, 'indexes'>): number[] {
  const { topology, down } = analysis;
  const { hardDependents, memberOf } = topology;
  const seen = new Set<number>(unit.indexes);
  const queue = [...unit.indexes];
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head]!;
    for (const csr of [hardDependents, memberOf]) {
      for (let i = csr.offsets[u]!; i < csr.offsets[u + 1]!; i++) {
        const v = csr.targets[i]!;
        if (down[v] && !seen.has(v)) {
          seen.add(v);
          queue.push(v);
        }
      }
    }
  }
  return queue;
}

/**
 * What is one failure from down right now: with everything failing and everything in a maintenance window counted as
 * down, the groups left without a spare, their members still up (do not touch them) and the services they hold up.
 */
export function atRiskNow(analysis: Analysis): AtRisk {
  const { topology, down, maintenance } = analysis;
  const mask = maintenance ? down.map((d, v) => d | maintenance[v]!) : down;
  const near: number[] = [];
  for (let v = 0; v < mask.length; v++) if (mask[v]) near.push(v);
  return atRisk(topology, mask, near);
}
