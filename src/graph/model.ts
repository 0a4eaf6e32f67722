/**
 * The graph model (design section 3), declared once. Importers transform their input into these rows; the
 * loader writes them; the topology engine reads them back.
 *
 * Vertices (every one that can fail carries :Entity and a unique `id`):
 *   (:Entity:Host {id: certname})            facts subset: environment, location, rack, az, os, classes
 *   (:Entity:Resource {id: certname::Type[title]})
 *   (:Entity:Service {id: 'service:<name>'}) tier
 *   (:Entity:Group {id: 'group:<name>'})     minHealthy (default 1)
 *   (:Team {id: 'team:<name>'})              contacts
 * Relations:
 *   (a:Entity)-[:DEPENDS_ON {kind: 'hard'|'soft', origin}]->(b:Entity)   a needs b
 *   (r:Resource)-[:RUNS_ON]->(h:Host)                                    implies a hard dependency of r on h
 *   (g:Group)-[:HAS_MEMBER]->(e:Entity)
 *   (e:Entity)-[:OWNED_BY]->(t:Team)                                     resources inherit their host's owner
 * Every vertex and relation an import writes carries `source` and `generation`; relations also carry `host`,
 * the certname whose import declared them, so re-importing a host replaces exactly what it declared.
 */

export type DependencyKind = 'hard' | 'soft';

/** The facts faultline keeps on a host (a subset; which raw facts feed them is configurable). */
export interface HostFacts {
  environment?: string;
  location?: string;
  rack?: string;
  az?: string;
  os?: string;
  classes?: string[];
}

export interface ResourceRow {
  id: string;
  type: string;
  title: string;
  /** Team id, when the resource has an owner of its own. */
  owner?: string;
  critical?: boolean;
  /** Alert ids (`<host>/<check>`) that map to this resource. */
  checks?: string[];
}

export interface DependencyRow {
  from: string;
  to: string;
  kind: DependencyKind;
  /** What declared it: require, subscribe, before, notify, edge, faultline::depends, faultline::consumes, native... */
  origin: string;
  /** Structure several hosts declare alike (a service on its group): kept until no host declares it. */
  shared?: boolean;
}

export interface MembershipRow {
  group: string;
  member: string;
}

export interface TeamRow {
  id: string;
  name: string;
  contacts: string[];
}

export interface ServiceRow {
  id: string;
  name: string;
  tier?: number;
  owner?: string;
  critical?: boolean;
}

export interface GroupRow {
  id: string;
  name: string;
  minHealthy?: number;
  /** capability (faultline::provides), member (faultline::member), service (hosts of a service) or native. */
  kind: string;
}

/** Everything one host's catalog (or native entry) declares: written in one transaction. */
export interface HostGraph {
  certname: string;
  facts: HostFacts;
  owner?: string;
  critical?: boolean;
  /** Alert ids that map to the host itself beyond the default `<host>/<any check>`. */
  checks?: string[];
  resources: ResourceRow[];
  dependencies: DependencyRow[];
  memberships: MembershipRow[];
  /** Declared on this host, merged with the same declarations on other hosts (one vertex per id). */
  teams: TeamRow[];
  services: ServiceRow[];
  groups: GroupRow[];
}

/** Declarations that belong to no host (native topology files): services, groups, teams and their links. */
export interface SharedGraph {
  teams: TeamRow[];
  services: ServiceRow[];
  groups: GroupRow[];
  dependencies: DependencyRow[];
  memberships: MembershipRow[];
}

/** What a facts import knows of one host: written over the host's facts, never touching its resources. */
export interface HostFactsRow {
  certname: string;
  facts: HostFacts;
  /** Team id derived from a configured fact (e.g. `owner`), if any. */
  owner?: string;
  /** Kept facts this import looked for and did not find: removed from the host, not left stale. */
  cleared?: (keyof HostFacts)[];
}
