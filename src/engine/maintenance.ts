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
