import { withScratch, type Scratch } from './scratch.ts';
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
  /** Hosts and resources marked critical, still up, that would go down with one of them. */
  critical: number[];
  /** The up members of those groups: each is now a single point of failure for them (do not touch). */
  holding: number[];
}

/** An AtRisk by entity ids, as incidents, impact answers and maintenance plans carry it. */
export interface AtRiskIds {
  /** Services still up that one more failure would take down: a redundancy group they need has no spare left. */
  servicesAtRisk: string[];
  /** Hosts and resources marked critical, still up, that one more failure would take down. */
  criticalAtRisk: string[];
  /** Those groups. */
  groupsWithoutSpare: string[];
  /** Their members still up: each is now a single point of failure (do not touch them). */
  holdingUp: string[];
}

/** `risk` by ids, each list sorted; `listed`: services an answer names already (affected, degraded), left out. */
export function atRiskIds(topology: Topology, risk: AtRisk, listed?: ReadonlySet<number>): AtRiskIds {
  const ids = (indexes: readonly number[]) => topology.idsOf(indexes).sort();
  return {
    servicesAtRisk: ids(listed ? risk.services.filter((v) => !listed.has(v)) : risk.services),
    criticalAtRisk: ids(risk.critical),
    groupsWithoutSpare: ids(risk.groups),
    holdingUp: ids(risk.holding),
  };
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
  const union = withScratch(topology, (scratch) => unionOfCascades(topology, down, groups, membersDown, scratch));
  const { services, critical } = union ?? exactCascades(topology, down, groups, membersDown);
  const holding = new Set<number>();
  for (const g of groups) for (let i = members.offsets[g]!; i < members.offsets[g + 1]!; i++) if (!down[members.targets[i]!]) holding.add(members.targets[i]!);
  return { groups, services, critical, holding: [...holding] };
}

/** atRisk of a down set given as a list (impact's question): all of it is near. */
export function atRiskOfDown(topology: Topology, down: ArrayLike<number>): AtRisk {
  const mask = new Uint8Array(topology.size);
  for (let i = 0; i < down.length; i++) mask[down[i]!] = 1;
  return atRisk(topology, mask, down);
}

/**
 * What all the groups' cascades take down (services, critical equipment) at once, in one propagation: a group one member short is entered as soon
 * as one member is in (it is then in the cascade of the group that member came from). That is exact unless some group
 * gets two or more of its members from the cascades together; undefined then, and the cascades are worked out one by
 * one. On estates where members share little (the common case) it costs one propagation.
 */
function unionOfCascades(topology: Topology, down: Uint8Array, groups: readonly number[], membersDown: (h: number) => number, s: Scratch): Threatened | undefined {
  const tail = cascade(topology, down, groups, membersDown, s, true);
  if (tail === undefined) return undefined;
  const out: Threatened = { services: [], critical: [] };
  for (let i = 0; i < tail; i++) sortThreatened(topology, s.queue[i]!, out);
  return out;
}

/** What at risk lists of a cascade: its services and its critical equipment. */
interface Threatened {
  services: number[];
  critical: number[];
}

function sortThreatened(topology: Topology, v: number, into: Threatened): void {
  if (topology.kinds[v] === KIND.service) into.services.push(v);
  else if (topology.isCriticalEquipment(v)) into.critical.push(v);
}

/** Each group's cascade on its own. implied is monotone: a group that goes down in an earlier cascade adds nothing. */
function exactCascades(topology: Topology, down: Uint8Array, groups: readonly number[], membersDown: (h: number) => number): Threatened {
  const threatened = new Set<number>();
  const covered = new Set<number>();
  withScratch(topology, (scratch) => {
    for (const g of groups) {
      if (covered.has(g)) continue;
      const tail = cascade(topology, down, [g], membersDown, scratch, false)!;
      for (let i = 0; i < tail; i++) {
        const v = scratch.queue[i]!;
        if (topology.kinds[v] === KIND.group) covered.add(v);
        else threatened.add(v);
      }
    }
  });
  const out: Threatened = { services: [], critical: [] };
  for (const v of threatened) sortThreatened(topology, v, out);
  return out;
}

/**
 * What goes down, on top of `down`, when `seeds` do: implied's worklist, started from the marks already there, listed
 * in scratch.queue[0..tail). `oneShort`: a group is entered only when one member was all it lacked, and a group that
 * gets enough members otherwise stops the walk (undefined).
 */
function cascade(topology: Topology, down: Uint8Array, seeds: readonly number[], membersDown: (h: number) => number, s: Scratch, oneShort: boolean): number | undefined {
  const { hardDependents, memberOf, downAt } = topology;
  const epoch = s.begin();
  const { stamp, queue, count, countStamp } = s;
  let tail = 0;
  for (const g of seeds) {
    if (stamp[g] === epoch) continue;
    stamp[g] = epoch;
    queue[tail++] = g;
  }
  for (let head = 0; head < tail; head++) {
    const u = queue[head]!;
    for (let i = hardDependents.offsets[u]!, end = hardDependents.offsets[u + 1]!; i < end; i++) {
      const d = hardDependents.targets[i]!;
      if (down[d] || stamp[d] === epoch) continue;
      stamp[d] = epoch;
      queue[tail++] = d;
    }
    for (let i = memberOf.offsets[u]!, end = memberOf.offsets[u + 1]!; i < end; i++) {
      const h = memberOf.targets[i]!;
      if (downAt[h] === 0 || down[h] || stamp[h] === epoch) continue;
      const n = countStamp[h] === epoch ? count[h]! + 1 : 1;
      countStamp[h] = epoch;
      count[h] = n;
      const short = downAt[h]! - membersDown(h);
      if (n < short) continue;
      if (oneShort && short > 1) return undefined;
      stamp[h] = epoch;
      queue[tail++] = h;
    }
  }
  return tail;
}
