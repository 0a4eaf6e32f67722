import { unionRows } from './csr.ts';
import { stronglyConnected, type Components } from './scc.ts';
import type { Topology } from './topology.ts';

/**
 * The two component structures the analyses use, computed once per topology on first use (a topology is
 * immutable, so they never go stale).
 *
 * failureComponents — SCCs of the graph "x can be taken down by y": x → y for every hard dependency, and g → m for
 *   every member m of a group g that can go down by membership (downAt > 0). This is the graph of the root-cause
 *   analysis: whether x ∈ implied(S) depends only on S ∩ (what x reaches here), so components are the units of
 *   mutual explanation. Groups must be in it: without their member edges, a group cycle (A needs a group holding
 *   B, B needs a group holding A) splits into singletons that explain each other and leaves no root at all.
 *
 * singleCauseComponents — SCCs of the graph "one failure of y alone takes x down": hard dependencies, and g → m
 *   only for groups that go down as soon as one member does (downAt = 1, i.e. minHealthy = number of members).
 *   Inside such a component every member implies every other, so all share one implied({x}): the SPOF analysis
 *   works per component.
 */
const failureCache = new WeakMap<Topology, Components>();
const singleCauseCache = new WeakMap<Topology, Components>();

export function failureComponents(topology: Topology): Components {
  let c = failureCache.get(topology);
  if (!c) {
    const n = topology.size;
    c = stronglyConnected(n, unionRows(n, topology.hardDeps, topology.members, (g) => topology.downAt[g]! > 0));
    failureCache.set(topology, c);
  }
  return c;
}

export function singleCauseComponents(topology: Topology): Components {
  let c = singleCauseCache.get(topology);
  if (!c) {
    const n = topology.size;
    c = stronglyConnected(n, unionRows(n, topology.hardDeps, topology.members, (g) => topology.downAt[g] === 1));
    singleCauseCache.set(topology, c);
  }
  return c;
}

/** Computes what the analyses compute on first use, so that the first event after a reload does not pay for it:
 *  call it on a fresh snapshot before swapping it in. */
export function prepareTopology(topology: Topology): Topology {
  failureComponents(topology);
  singleCauseComponents(topology);
  return topology;
}
