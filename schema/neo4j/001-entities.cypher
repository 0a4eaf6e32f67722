// faultline graph schema (design section 3). Applied in file order by `faultline migrate`; every statement
// is idempotent (IF NOT EXISTS), so migrate may run at every start.

// Every vertex that can fail carries :Entity and a unique, stable string id (certname, <certname>::Type[title],
// service:<name>, group:<name>).
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE;

// Teams own entities: (e)-[:OWNED_BY]->(t:Team).
CREATE CONSTRAINT team_id IF NOT EXISTS FOR (t:Team) REQUIRE t.id IS UNIQUE;

// A --full import finds the hosts of its source; a re-import finds a host's resources.
CREATE INDEX host_source IF NOT EXISTS FOR (h:Host) ON (h.source);
CREATE INDEX resource_host IF NOT EXISTS FOR (r:Resource) ON (r.host);

// Re-importing a host removes the relations it declared before and no longer does: found by their `host` stamp.
// (RUNS_ON needs none: a resource's RUNS_ON goes only with the resource.)
CREATE INDEX depends_on_host IF NOT EXISTS FOR ()-[r:DEPENDS_ON]-() ON (r.host);
CREATE INDEX has_member_host IF NOT EXISTS FOR ()-[r:HAS_MEMBER]-() ON (r.host);
CREATE INDEX owned_by_host IF NOT EXISTS FOR ()-[r:OWNED_BY]-() ON (r.host);

// Bookkeeping of imports that own declarations without being a host (a native topology file): its digest.
CREATE CONSTRAINT import_state_id IF NOT EXISTS FOR (s:ImportState) REQUIRE s.id IS UNIQUE;
