import { impliedIndexes } from './implied.ts';
import type { Topology } from './topology.ts';

/**
 * "May the autoscaler remove web7?" (GraphQL `decommissionCheck`). Removing entities is, for everything that stays,
 * the same as their being down for good: what stays and is in implied(removed) would lose a hard dependency or see a
 * group drop below minHealthy. So breaks = implied(removed) \ removed, and it is safe when nothing breaks.
 *
 * Removed = the ids, plus the resources that run on a removed host: a host leaves with its resources (otherwise
 * no host with resources could ever be removed safely). They still count as down for what depends on them.
 * O(implied(removed) + their edges).
 */
export interface DecommissionCheck {
  safe: boolean;
  /** Entities that stay and would be down. */
  breaks: string[];
  /** What goes: the known ids and the resources running on removed hosts. */
  removed: string[];
  unknown: string[];
}

export function decommissionCheck(topology: Topology, ids: Iterable<string>): DecommissionCheck {
  const { indexes, unknown } = topology.resolve(ids);
  const removed = new Set(indexes);
  const hosts = new Set(indexes);
  const down = impliedIndexes(topology, indexes);
  for (const v of down) if (hosts.has(topology.host[v]!)) removed.add(v);
  const breaks = down.filter((v) => !removed.has(v));
  return { safe: breaks.length === 0, breaks: topology.idsOf(breaks), removed: topology.idsOf(removed), unknown };
}
