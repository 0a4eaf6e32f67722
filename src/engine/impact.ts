import { atRiskIds, atRiskOfDown, type AtRiskIds } from './at-risk.ts';
import { degradedIndexes, impliedTrace } from './implied.ts';
import { ownerIds } from './owners.ts';
import { KIND, type Topology } from './topology.ts';

/**
 * "db1 is down: what is affected, who do I call, and why?" (GraphQL `impact`, CLI `faultline impact`).
 *
 * affected = implied(ids), plus (includeSoft) the degraded: entities not down with a soft dependency on a down one.
 * services = the services among affected; owners = the teams owning anything affected (a resource without owners of
 * its own counts its host's). For each affected service, one dependency path that explains it, from the service to
 * one of the failed ids: the path the propagation took (breadth first, so a shortest one); through a group it names
 * the member that crossed the group's threshold (the other down members are in `affected`).
 *
 * With `atRisk`: the services still up that one more failure would take down (redundancy lost, see at-risk.ts).
 *
 * O(affected + their edges).
 */
export interface ImpactOptions {
  includeSoft?: boolean;
  /** Also what is left without a spare (servicesAtRisk, groupsWithoutSpare): a few more propagations. */
  atRisk?: boolean;
}

export interface ServiceExplanation {
  service: string;
  /** service → … → a failed id, each needing the next (hard dependency, RUNS_ON, group → member; the first step
   *  is soft when the service is only degraded). */
  path: string[];
  /** True when the service is degraded (soft), not down. */
  degraded: boolean;
}

export interface Impact extends Partial<AtRiskIds> {
  /** The ids asked about that the topology knows. */
  failed: string[];
  /** The ids asked about that it does not know. */
  unknown: string[];
  /** down, then (includeSoft) degraded. */
  affected: string[];
  /** implied(failed), failed ids first, then in order of propagation. */
  down: string[];
  /** Empty unless includeSoft. */
  degraded: string[];
  services: string[];
  /** Team ids. */
  owners: string[];
  /** The AtRiskIds fields are there with the atRisk option only. */
  explanations: ServiceExplanation[];
}

export function impact(topology: Topology, ids: Iterable<string>, options: ImpactOptions = {}): Impact {
  const { indexes, unknown } = topology.resolve(ids);
  const { down, via } = impliedTrace(topology, indexes);
  const soft = options.includeSoft ? degradedIndexes(topology, down) : new Int32Array(0);

  const position = new Map<number, number>();
  down.forEach((v, i) => position.set(v, i));
  const pathTo = (v: number): string[] => {
    const path: string[] = [];
    for (let at = v; at >= 0; at = via[position.get(at)!]!) path.push(topology.ids[at]!);
    return path;
  };

  const services: string[] = [];
  const explanations: ServiceExplanation[] = [];
  for (const v of down) {
    if (topology.kinds[v] !== KIND.service) continue;
    services.push(topology.ids[v]!);
    explanations.push({ service: topology.ids[v]!, path: pathTo(v), degraded: false });
  }
  const { offsets, targets } = topology.softDeps;
  for (const v of soft) {
    if (topology.kinds[v] !== KIND.service) continue;
    services.push(topology.ids[v]!);
    let cause = -1;
    for (let i = offsets[v]!; i < offsets[v + 1]! && cause < 0; i++) if (position.has(targets[i]!)) cause = targets[i]!;
    explanations.push({ service: topology.ids[v]!, path: [topology.ids[v]!, ...pathTo(cause)], degraded: true });
  }

  const all = new Int32Array(down.length + soft.length);
  all.set(down);
  all.set(soft, down.length);
  return {
    failed: topology.idsOf(indexes),
    unknown,
    affected: topology.idsOf(all),
    down: topology.idsOf(down),
    degraded: topology.idsOf(soft),
    services,
    owners: ownerIds(topology, all),
    explanations,
    ...(options.atRisk ? impactRisk(topology, down, soft) : {}),
  };
}

/** What the answer to an impact question (asked without `atRisk`) leaves without a spare, worked out afterwards. */
export function impactAtRisk(topology: Topology, answer: Pick<Impact, 'down' | 'degraded'>): AtRiskIds {
  return impactRisk(topology, topology.resolve(answer.down).indexes, topology.resolve(answer.degraded).indexes);
}

function impactRisk(topology: Topology, down: ArrayLike<number>, degraded: ArrayLike<number>): AtRiskIds {
  // A degraded service listed as affected is not listed again as at risk.
  return atRiskIds(topology, atRiskOfDown(topology, down), new Set(Array.from(degraded)));
}
