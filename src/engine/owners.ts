import type { Topology } from './topology.ts';

/**
 * Team indexes owning any of `entities` (effective ownership: a resource without owners of its own answers with its
 * host's), deduplicated, in the order first met.
 */
export function ownerIndexes(topology: Topology, entities: ArrayLike<number>): number[] {
  const { offsets, targets } = topology.owners;
  const seen = new Uint8Array(topology.teams.length);
  const out: number[] = [];
  for (let i = 0; i < entities.length; i++) {
    const v = entities[i]!;
    for (let j = offsets[v]!; j < offsets[v + 1]!; j++) {
      const t = targets[j]!;
      if (seen[t]) continue;
      seen[t] = 1;
      out.push(t);
    }
  }
  return out;
}

/** Team ids owning any of `entities`. */
export function ownerIds(topology: Topology, entities: ArrayLike<number>): string[] {
  return ownerIndexes(topology, entities).map((t) => topology.teams[t]!.id);
}

/** Team ids owning one entity. */
export function ownersOf(topology: Topology, id: string): string[] {
  const v = topology.indexOf(id);
  return v === undefined ? [] : ownerIds(topology, [v]);
}
