import { singleCauseComponents } from './components.ts';
import { csrFromPairs } from './csr.ts';
import { impliedIndexes } from './implied.ts';
import { ownerIds } from './owners.ts';
import { KIND, type Topology } from './topology.ts';

/**
 * Single points of failure, design section 5: x is a SPOF when implied({x}) contains a service, or a host or
 * resource marked critical, other than x. Members of a group with spare capacity are not SPOFs (one member down
 * does not take the group down); the group itself may be. Ranked by the number of services affected, then of teams
 * (owners of everything in implied({x})), then of entities affected, then id.
 *
 * Running implied() from every entity costs O(n·m). Instead (spofCounts):
 * 1. singleCauseComponents: the SCCs of "one failure of y alone takes x down" (hard dependencies, and groups that
 *    need all their members). Members of one such component share implied({x}), so each component is evaluated
 *    once. Their condensation is a DAG; an edge C → P when P takes C's failure (P is a dependent of C).
 * 2. If P is a dependent of C, implied(P) ⊆ implied(C), and implied(C) = closure(implied(P) ∪ C). So a spanning
 *    forest of the condensation (each component hangs under one dependent component, chosen by the largest
 *    estimated closure) is walked depth first with ONE working state: entering C adds C and propagates on top of
 *    its parent's closure (the full rules, group counters included, so groups with spare capacity are exact),
 *    leaving C undoes exactly what entering did (an undo log). Entering C costs |implied(C) \ implied(parent)| and
 *    their edges: near O(n + m) on tree-like estates (host → resources → services), never worse than one
 *    propagation per component.
 * 3. Counters kept incrementally on the state: services, critical hosts/resources, entities, and distinct teams
 *    (per-team reference counts).
 * spofs() then lists services, critical entities and teams for the top `limit` only, one propagation each.
 */
export interface SpofOptions {
  /** How many to return, best first (default 50; Infinity for all). */
  limit?: number;
}

export interface Spof {
  entity: string;
  /** Services in implied({entity}) other than the entity. */
  services: string[];
  /** Critical hosts and resources in implied({entity}) other than the entity. */
  critical: string[];
  /** Owners of everything in implied({entity}), the entity included. */
  teams: string[];
  /** |implied({entity})|, the entity included. */
  affected: number;
}

export interface SpofCount {
  entity: number;
  services: number;
  critical: number;
  teams: number;
  affected: number;
}

export function spofs(topology: Topology, options: SpofOptions = {}): Spof[] {
  const limit = options.limit ?? 50;
  const ranked = spofCounts(topology);
  const top = Number.isFinite(limit) ? ranked.slice(0, Math.max(0, limit)) : ranked;
  return top.map(({ entity }) => spofOf(topology, entity));
}

/** The SPOF details of one entity (whether it is one or not: empty services and critical mean it is not). */
export function spofOf(topology: Topology, v: number): Spof {
  const down = impliedIndexes(topology, [v]);
  const services: string[] = [];
  const critical: string[] = [];
  for (const d of down) {
    if (d === v) continue;
    if (topology.kinds[d] === KIND.service) services.push(topology.ids[d]!);
    else if (topology.isCriticalEquipment(d)) critical.push(topology.ids[d]!);
  }
  return { entity: topology.ids[v]!, services, critical, teams: ownerIds(topology, down), affected: down.length };
}

const counted = new WeakMap<Topology, readonly SpofCount[]>();

/** Every SPOF with its counts, ranked. Computed once per topology (it is immutable) and kept with it. */
export function spofCounts(topology: Topology): readonly SpofCount[] {
  let result = counted.get(topology);
  if (!result) {
    result = Object.freeze(countSpofs(topology));
    counted.set(topology, result);
  }
  return result;
}

function countSpofs(topology: Topology): SpofCount[] {
  const n = topology.size;
  const comps = singleCauseComponents(topology);
  const K = comps.count;
  const { hardDependents, memberOf, downAt, kinds, owners } = topology;

  // Spanning forest: each component under its dependent component of largest estimated closure. Dependents have
  // higher component numbers (Tarjan closes dependencies first), so one descending pass sees them estimated.
  const estimate = new Float64Array(K);
  const parent = new Int32Array(K).fill(-1);
  const seen = new Int32Array(K).fill(-1);
  for (let c = K - 1; c >= 0; c--) {
    let sum = comps.members.offsets[c + 1]! - comps.members.offsets[c]!;
    let best = -1;
    let bestEstimate = -1;
    const consider = (d: number) => {
      const p = comps.of[d]!;
      if (p === c || seen[p] === c) return;
      seen[p] = c;
      sum += estimate[p]!;
      if (estimate[p]! > bestEstimate) {
        bestEstimate = estimate[p]!;
        best = p;
      }
    };
    for (let i = comps.members.offsets[c]!; i < comps.members.offsets[c + 1]!; i++) {
      const x = comps.members.targets[i]!;
      for (let j = hardDependents.offsets[x]!; j < hardDependents.offsets[x + 1]!; j++) consider(hardDependents.targets[j]!);
      for (let j = memberOf.offsets[x]!; j < memberOf.offsets[x + 1]!; j++) {
        const g = memberOf.targets[j]!;
        if (downAt[g] === 1) consider(g);
      }
    }
    estimate[c] = Math.min(sum, n);
    parent[c] = best;
  }
  const childFrom: number[] = [];
  const childTo: number[] = [];
  for (let c = 0; c < K; c++) {
    if (parent[c]! >= 0) {
      childFrom.push(parent[c]!);
      childTo.push(c);
    }
  }
  const children = csrFromPairs(K, childFrom, childTo);

  // The one working state, with its undo log (which doubles as the worklist).
  const down = new Uint8Array(n);
  const count = new Int32Array(n);
  const log = new Int32Array(n);
  let logLength = 0;
  const teamRefs = new Int32Array(topology.teams.length);
  let services = 0;
  let critical = 0;
  let teams = 0;

  const mark = (v: number) => {
    down[v] = 1;
    log[logLength++] = v;
    if (kinds[v] === KIND.service) services++;
    else if (topology.isCriticalEquipment(v)) critical++;
    for (let j = owners.offsets[v]!; j < owners.offsets[v + 1]!; j++) if (teamRefs[owners.targets[j]!]!++ === 0) teams++;
  };
  const propagateFrom = (head: number) => {
    for (; head < logLength; head++) {
      const u = log[head]!;
      for (let j = hardDependents.offsets[u]!; j < hardDependents.offsets[u + 1]!; j++) {
        const d = hardDependents.targets[j]!;
        if (!down[d]) mark(d);
      }
      for (let j = memberOf.offsets[u]!; j < memberOf.offsets[u + 1]!; j++) {
        const g = memberOf.targets[j]!;
        const at = downAt[g]!;
        if (at === 0) continue;
        if (++count[g]! >= at && !down[g]) mark(g);
      }
    }
  };
  const undoTo = (length: number) => {
    while (logLength > length) {
      const v = log[--logLength]!;
      down[v] = 0;
      if (kinds[v] === KIND.service) services--;
      else if (topology.isCriticalEquipment(v)) critical--;
      for (let j = owners.offsets[v]!; j < owners.offsets[v + 1]!; j++) if (--teamRefs[owners.targets[j]!]! === 0) teams--;
      for (let j = memberOf.offsets[v]!; j < memberOf.offsets[v + 1]!; j++) {
        const g = memberOf.targets[j]!;
        if (downAt[g]! > 0) count[g]!--;
      }
    }
  };

  const result: SpofCount[] = [];
  const record = (c: number) => {
    for (let i = comps.members.offsets[c]!; i < comps.members.offsets[c + 1]!; i++) {
      const x = comps.members.targets[i]!;
      const otherServices = services - (kinds[x] === KIND.service ? 1 : 0);
      const otherCritical = critical - (topology.isCriticalEquipment(x) ? 1 : 0);
      if (otherServices > 0 || otherCritical > 0) {
        result.push({ entity: x, services: otherServices, critical: otherCritical, teams, affected: logLength });
      }
    }
  };

  // Iterative depth-first walk of the forest.
  const stackComponent = new Int32Array(K);
  const stackChild = new Int32Array(K);
  const stackLog = new Int32Array(K);
  for (let rootComponent = 0; rootComponent < K; rootComponent++) {
    if (parent[rootComponent] !== -1) continue;
    let sp = 0;
    const enter = (c: number) => {
      stackComponent[sp] = c;
      stackChild[sp] = children.offsets[c]!;
      stackLog[sp++] = logLength;
      const start = logLength;
      for (let i = comps.members.offsets[c]!; i < comps.members.offsets[c + 1]!; i++) {
        const x = comps.members.targets[i]!;
        if (!down[x]) mark(x);
      }
      propagateFrom(start);
      record(c);
    };
    enter(rootComponent);
    while (sp > 0) {
      const c = stackComponent[sp - 1]!;
      const next = stackChild[sp - 1]!;
      if (next < children.offsets[c + 1]!) {
        stackChild[sp - 1] = next + 1;
        enter(children.targets[next]!);
      } else {
        undoTo(stackLog[--sp]!);
      }
    }
  }

  const ids = topology.ids;
  return result.sort(
    (a, b) => b.services - a.services || b.teams - a.teams || b.affected - a.affected || (ids[a.entity]! < ids[b.entity]! ? -1 : ids[a.entity]! > ids[b.entity]! ? 1 : 0),
  );
}
