// faultline graph schema (design section 3). Applied in file order by `faultline migrate`; every statement
// is idempotent (IF NOT EXISTS), so migrate may run at every start.

// Every vertex that can fail carries :Entity and a unique, stable string id (certname, <certname>::Type[title],
// service:<name>, group:<name>).
CREATE CONSTRAINT entity_id IF NOT EXISTS FOR (e:Entity) REQUIRE e.id IS UNIQUE;

// Teams own entities: (e)-[:OWNED_BY]->(t:Team).
CREATE CONSTRAINT team_id IF NOT EXISTS FOR (t:Team) REQUIRE t.id IS UNIQUE;

// Imports stamp `source` and `generation` on what they write, and find a source's hosts again for --full.
CREATE INDEX entity_source IF NOT EXISTS FOR (e:Entity) ON (e.source);
CREATE INDEX host_source_generation IF NOT EXISTS FOR (h:Host) ON (h.source, h.generation);
CREATE INDEX resource_host IF NOT EXISTS FOR (r:Resource) ON (r.host);
