// id: spof-tier1
// severity: error
// description: Single points of failure of tier-1 services: entities whose failure alone takes down a
//   service of tier 1 (or 0) through hard dependencies, hosts and redundancy groups.
// param.maxTier: 1
// param.includeGroups: false

// The failure rules of design section 5 (docs/engine.md): an entity is down when one of its hard dependencies
// (DEPENDS_ON hard, RUNS_ON) is; a group is down when fewer than minHealthy of its members are up, that is when
// downAt = members - minHealthy + 1 of them are down (a group with minHealthy <= 0 never is; one declaring
// more than it has needs all of them). x is a SPOF of service s when x's failure alone takes s down.
//
// Computed from the services downwards:
//   R(e)  what e reaches over hard DEPENDS_ON, RUNS_ON, and HAS_MEMBER of groups without spare capacity
//         (downAt = 1): each of these takes e down on its own.
//   A(e)  what takes e down: R(e), plus, for each group g with spare capacity (downAt > 1) in R(e), T(g).
//   T(g)  the entities that take down at least downAt(g) members of g at once: y with y in A(m) for downAt(g)
//         of its members m (a common cause: the DNS server both web servers need).
// The SPOFs of s are A(s) without s. T and A need each other: T is computed for every spare group below a
// tier-1 service at once, in rounds, each round from the last (starting from nothing), until nothing changes.
// A common cause found through k nested spare groups needs k rounds, and k never exceeds the number of spare
// groups, so the rounds are bounded by it and the result is exact: the same as the engine's spofs() (tested
// on the fixture estates, hand-made hard cases and random graphs, test/compliance/spof.test.ts), with one
// exception: a resource gone from its host's catalog but still needed keeps its `host` property and loses its
// RUNS_ON; the engine still links it to that host, this rule does not (docs/compliance.md).
// A group listed as its own member is not counted as one (as in the engine). $maxTier: the highest tier that
// counts (services of tier 0 and 1 by default).
//
// Groups are left out of the result unless $includeGroups (the engine lists them): a group does not fail by
// itself, it is down when enough of its members are (or one of its own dependencies is), and an entity that
// alone causes that is reported itself.

// Tier-1 services and R(service).
MATCH (s:Service)
WHERE s.tier <= $maxTier
CALL (s) {
  MATCH p = (s)-[:DEPENDS_ON|RUNS_ON|HAS_MEMBER*0..]->(x)
  WHERE all(r IN relationships(p) WHERE CASE type(r)
          WHEN 'DEPENDS_ON' THEN coalesce(r.kind, 'hard') <> 'soft'
          WHEN 'HAS_MEMBER' THEN coalesce(startNode(r).minHealthy, 1) >= COUNT { MATCH (grp)-[:HAS_MEMBER]->(other) WHERE grp = startNode(r) AND other <> grp }
          ELSE true END)
  RETURN collect(DISTINCT x.id) AS reach
}
WITH collect({service: s.id, reach: reach}) AS tier1, collect(s) AS services

// Every group with spare capacity below a tier-1 service, and for each of its members m: R(m), and the groups
// with spare capacity in R(m).
CALL (services) {
  UNWIND services AS s
  MATCH p = (s)-[:DEPENDS_ON|RUNS_ON|HAS_MEMBER*0..]->(g:Group)
  WHERE all(r IN relationships(p) WHERE coalesce(r.kind, 'hard') <> 'soft')
  WITH DISTINCT g
  WITH g, COUNT { (g)-[:HAS_MEMBER]->(other) WHERE other <> g } AS size, coalesce(g.minHealthy, 1) AS need
  WHERE 0 < need < size
  MATCH (g)-[:HAS_MEMBER]->(m)
  WHERE m <> g
  CALL (m) {
    MATCH p = (m)-[:DEPENDS_ON|RUNS_ON|HAS_MEMBER*0..]->(y)
    WHERE all(r IN relationships(p) WHERE CASE type(r)
            WHEN 'DEPENDS_ON' THEN coalesce(r.kind, 'hard') <> 'soft'
            WHEN 'HAS_MEMBER' THEN coalesce(startNode(r).minHealthy, 1) >= COUNT { MATCH (grp)-[:HAS_MEMBER]->(other) WHERE grp = startNode(r) AND other <> grp }
            ELSE true END)
    RETURN collect(DISTINCT y.id) AS reach,
           collect(DISTINCT CASE WHEN y:Group AND 0 < coalesce(y.minHealthy, 1) < COUNT { (y)-[:HAS_MEMBER]->(other) WHERE other <> y } THEN y.id END) AS below
  }
  WITH g, size - need + 1 AS downAt, collect({member: m.id, reach: reach, below: below}) AS members
  RETURN collect({group: g.id, downAt: downAt, members: members}) AS spareGroups
}

// T of every spare group, in rounds: [{group, takers}], each round computed from the previous one (Cypher has
// no loop but reduce, in which no aggregation is allowed: members are counted with list predicates). A(m) for a
// member m is R(m) plus the takers, so far, of the spare groups in R(m). The rounds only ever add: a round that
// adds nothing is the fixpoint, and the rounds after it keep the state as it is.
WITH tier1, spareGroups, reduce(state = {groups: [], size: 0, done: false}, round IN range(1, size(spareGroups)) |
  CASE WHEN state.done THEN state ELSE
    [next IN [[sg IN spareGroups | {
        group: sg.group,
        takers: [down IN [[m IN sg.members | m.reach + reduce(more = [], t IN state.groups | more + CASE WHEN t.group IN m.below THEN t.takers ELSE [] END)]] |
                  [y IN COLLECT { UNWIND down AS a UNWIND a AS y RETURN DISTINCT y } WHERE size([a IN down WHERE y IN a]) >= sg.downAt]][0]
      }]] |
      [total IN [reduce(n = 0, t IN next | n + size(t.takers))] | {groups: next, size: total, done: total = state.size}][0]][0]
  END).groups AS spares

// A(s) = R(s) plus T(g) for the spare groups g in R(s).
UNWIND tier1 AS t
UNWIND t.reach + reduce(more = [], sp IN [sp IN spares WHERE sp.group IN t.reach] | more + sp.takers) AS x
WITH DISTINCT t.service AS service, x
WHERE x <> service AND ($includeGroups OR NOT x STARTS WITH 'group:')
WITH x, service ORDER BY service
WITH x, collect(service) AS services
ORDER BY x
RETURN [x] + services AS entities,
       x + ' is a single point of failure of tier-1 service' + CASE WHEN size(services) > 1 THEN 's ' ELSE ' ' END
         + reduce(text = '', i IN range(0, size(services) - 1) | text
             + CASE WHEN i = 0 THEN '' WHEN i = size(services) - 1 THEN ' and ' ELSE ', ' END + services[i]) AS message
