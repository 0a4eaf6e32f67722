import type { Topology } from '../../engine/index.ts';

/** An entity as resolvers pass it around: an index into the snapshot that answered the question. */
export interface EntityRef {
  topology: Topology;
  index: number;
}

export interface TopologyInfoRef {
  topology: Topology;
  loadedAt: Date;
  loadSeconds: number;
  source: 'neo4j' | 'cache';
}

export const refOf = (topology: Topology, index: number): EntityRef => ({ topology, index });

/** Refs for known ids (ids the snapshot does not know are dropped: callers check them first). */
export function refsOf(topology: Topology, ids: Iterable<string>): EntityRef[] {
  const refs: EntityRef[] = [];
  for (const id of ids) {
    const index = topology.indexOf(id);
    if (index !== undefined) refs.push({ topology, index });
  }
  return refs;
}

/** Team objects for team ids (ids the snapshot no longer knows are dropped). */
export const teamsOf = (topology: Topology, teamIds: Iterable<string>) =>
  [...teamIds].flatMap((id) => {
    const t = topology.teamIndexOf(id);
    return t === undefined ? [] : [topology.teams[t]!];
  });
