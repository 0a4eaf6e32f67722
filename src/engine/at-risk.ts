import { KIND, type Topology } from './topology.ts';

/**
 * Redundancy lost. With `down` down, a group that is still up but would go down with one more failed member has no
 * spare left; whatever would go down with it is at risk: up now, one failure away. Design section 5 knows only
 * down and degraded; this is what an operator asks next ("mail1 is down: is mail still redundant?").
 *
 * Only the groups with a member in `near` are looked at (an incident asks about what its root took down). For each,
 * what it would take down is propagated over `down` as it is, so the cost is the groups' members plus what they
 * would take down, not the estate.
 */
export interface AtRisk {
  /** Groups still up with no spare member left, in the order met. */
  groups: number[];
  /** Services still up that would go down with one of those groups. */
  services: number[];
}

export function atRisk(topology: Topology, down: Uint8Array, near: ArrayLike<number>): AtRisk {
  const { members, memberOf, downAt } = topology;
  const downMembers = new Map<number, number>();
  const membersDown = (g: number): number => {
    let n = downMembers.get(g);
    if (n === undefined) {
      n = 0;
      for (let i = members.offsets[g]!; i < members.offsets[g + 1]!; i++) if (down[members.targets[i]!]) n++;
      downMembers.set(g, n);
    }
    return n;
  };
  const groups: number[] = [];
  const looked = new Set<number>();
  for (let k = 0; k < near.length; k++) {
    const v = near[k]!;
    for (let i = memberOf.offsets[v]!; i < memberOf.offsets[v + 1]!; i++) {
      const g = memberOf.targets[i]!;
      if (looked.has(g)) continue;
      looked.add(g);
      if (downAt[g]! > 0 && !down[g] && membersDown(g) === downAt[g]! - 1) groups.push(g);
    }
  }
  const services = new Set<number>();
  for (const g of groups) for (const v of wouldGoDown(topology, down, g, membersDown)) if (topology.kinds[v] === KIND.service) services.add(v);
  return { groups, services: [...services] };
}

/** What goes down, on top of `down`, when `g` does: implied's worklist, started from the marks already there. */
function wouldGoDown(topology: Topology, down: Uint8Array, g: number, membersDown: (h: number) => number): number[] {
  const { hardDependents, memberOf, downAt } = topology;
  const gone = new Set<number>([g]);
  const extra = new Map<number, number>();
  const queue = [g];
  for (let head = 0; head < queue.length; head++) {
    const u = queue[head]!;
    for (let i = hardDependents.offsets[u]!; i < hardDependents.offsets[u + 1]!; i++) {
      const d = hardDependents.targets[i]!;
      if (down[d] || gone.has(d)) continue;
      gone.add(d);
      queue.push(d);
    }
    for (let i = memberOf.offsets[u]!; i < memberOf.offsets[u + 1]!; i++) {
      const h = memberOf.targets[i]!;
      if (downAt[h] === 0 || down[h] || gone.has(h)) continue;
      const n = (extra.get(h) ?? 0) + 1;
      extra.set(h, n);
      if (membersDown(h) + n >= downAt[h]!) {
        gone.add(h);
        queue.push(h);
      }
    }
  }
  return queue;
}
