import { atRisk, atRiskIds, type AtRiskIds } from './at-risk.ts';
import { impliedIndexes } from './implied.ts';
import { ownerIds } from './owners.ts';
import { KIND, type Topology } from './topology.ts';

/**
 * "db1 goes down Tuesday 02:00: what to put in downtime, whom to tell?" (GraphQL `maintenancePlan`).
 * downtime = implied(ids): everything that will be down, so none of it pages (design section 5, Maintenance);
 * stakeholders = the owners of the affected services and of the ids themselves. O(implied(ids) + their edges).
 */
export interface MaintenanceDowntime {
  /** The ids asked about that the topology knows. */
  ids: string[];
  unknown: string[];
  /** implied(ids), the ids first. */
  downtime: string[];
  /** Services in downtime. */
  services: string[];
  /** Team ids. */
  stakeholders: string[];
}

export function maintenanceDowntime(topology: Topology, ids: Iterable<string>): MaintenanceDowntime {
  const { indexes, unknown } = topology.resolve(ids);
  const down = impliedIndexes(topology, indexes);
  const services = down.filter((v) => topology.kinds[v] === KIND.service);
  const concerned = new Int32Array(services.length + indexes.length);
  concerned.set(services);
  concerned.set(indexes, services.length);
  return {
    ids: topology.idsOf(indexes),
    unknown,
    downtime: topology.idsOf(down),
    services: topology.idsOf(services),
    stakeholders: ownerIds(topology, concerned),
  };
}

/**
 * What goes down only because `ids` and `alongside` are down at the same time, though neither alone takes it down:
 * implied(ids ∪ alongside) − implied(ids) − implied(alongside). A redundancy group whose last spare is in `alongside`
 * while the other member is in `ids` is the common case: "db1 is failing now, so taking db2 down takes mail down".
 * The AtRiskIds fields: what `ids` leave without a spare while both are down, for the length of the window.
 */
export interface CombinedDowntime extends AtRiskIds {
  /** Entities down only when both are, in propagation order. */
  combined: string[];
  /** Services among them. */
  services: string[];
  /** Owners of those services (team ids). */
  stakeholders: string[];
  /** Services `alongside` takes down by itself, whatever happens to `ids`. */
  servicesDownAlready: string[];
}

export function combinedDowntime(topology: Topology, ids: Iterable<string>, alongside: Iterable<string>): CombinedDowntime {
  const own = topology.resolve(ids).indexes;
  const other = topology.resolve(alongside).indexes;
  const isService = (v: number) => topology.kinds[v] === KIND.service;
  const downAlready = impliedIndexes(topology, other);
  const servicesDownAlready = topology.idsOf(Array.from(downAlready).filter(isService));
  const ownDown = impliedIndexes(topology, own);
  const seeds = new Int32Array(own.length + other.length);
  seeds.set(own);
  seeds.set(other, own.length);
  const all = impliedIndexes(topology, seeds);
  const allMask = new Uint8Array(topology.size);
  for (const v of all) allMask[v] = 1;
  // Left without a spare by the window, with everything else that is down then.
  const riskIds = atRiskIds(topology, atRisk(topology, allMask, ownDown));
  if (own.length === 0 || other.length === 0) return { combined: [], services: [], stakeholders: [], servicesDownAlready, ...riskIds };
  const apart = new Uint8Array(topology.size);
  for (const v of ownDown) apart[v] = 1;
  for (const v of downAlready) apart[v] = 1;
  const combined = Array.from(all).filter((v) => apart[v] === 0);
  const services = combined.filter(isService);
  return { combined: topology.idsOf(combined), services: topology.idsOf(services), stakeholders: ownerIds(topology, services), servicesDownAlready, ...riskIds };
}
