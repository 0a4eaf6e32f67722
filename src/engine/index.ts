/**
 * The topology engine: the compiled, in-memory graph and the failure semantics of design section 5 as pure
 * functions over it. docs/engine.md describes the data layout, the semantics and the cost of each function.
 */
export { compileTopology, kindFromId, KIND, KIND_NAMES, PLACE_FACTS, Topology } from './topology.ts';
export type { EntityInput, EntityKind, Place, Team, TeamInput, TopologyInput } from './topology.ts';
export { row } from './csr.ts';
export type { Csr } from './csr.ts';
export { EntitySet } from './entity-set.ts';
export { degraded, degradedIndexes, implied, impliedIndexes, impliedTrace } from './implied.ts';
export type { ImpliedTrace } from './implied.ts';
export { explainUnits, rootIndexes, roots } from './roots.ts';
export { firstFrom, LiveRoots } from './live-roots.ts';
export type { LiveRootsState, UnitsChange } from './live-roots.ts';
export type { RootAnalysis, RootCause, RootIndexAnalysis, RootUnitIndexes } from './roots.ts';
export { atRisk, atRiskIds, atRiskOfDown } from './at-risk.ts';
export type { AtRisk, AtRiskIds } from './at-risk.ts';
export { impact, impactAtRisk } from './impact.ts';
export type { Impact, ImpactOptions, ServiceExplanation } from './impact.ts';
export { spofCounts, spofOf, spofs } from './spofs.ts';
export type { Spof, SpofCount, SpofOptions } from './spofs.ts';
export { combinedDowntime, maintenanceDowntime } from './maintenance.ts';
export type { CombinedDowntime, MaintenanceDowntime } from './maintenance.ts';
export { decommissionCheck } from './decommission.ts';
export type { DecommissionCheck } from './decommission.ts';
export { ownerIds, ownerIndexes, ownersOf } from './owners.ts';
export { failureComponents, prepareTopology, singleCauseComponents } from './components.ts';
