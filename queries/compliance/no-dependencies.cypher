// id: no-dependencies
// severity: warning
// description: Hosts with no declared relation to any other host, in or out: nothing on the host needs
//   something on another host, nothing on another host needs it, and it shares no group or service with
//   another host.

// "On h" means h itself and the resources that RUN_ON it. Services and groups are logical: they belong to no
// host, and relations are followed through them. x on h is related to y on another host when
//   - x DEPENDS_ON y, or y DEPENDS_ON x (hard or soft), or
//   - x DEPENDS_ON a chain of services/groups (DEPENDS_ON, HAS_MEMBER) that reaches y: h needs y, e.g. through a
//     capability that y provides; or the same from y to x, or
//   - a service or group reaches both x and y through such chains: peers in a redundancy group or capability,
//     hosts of one service, two things one service needs.
// Two hosts that only consume the same capability are not related through it (it is below both, not above).
// Unmanaged hosts are not checked (dangling-dependency reports what still needs them). A placeholder (an
// entity known only as the end of a relation) counts as the host its id names.

MATCH (h:Host)
WHERE h.managed = true
  // x on h needs y on another host, or y needs x, directly
  AND NOT EXISTS {
    MATCH (x:Entity)-[:RUNS_ON*0..1]->(h)
    MATCH (x)-[:DEPENDS_ON]-(y)
    WHERE NOT (y:Service OR y:Group OR y.id STARTS WITH 'service:' OR y.id STARTS WITH 'group:')
      AND CASE WHEN y:Host THEN y.id ELSE coalesce(y.host, split(y.id, '::')[0]) END <> h.id
  }
  // x needs y through services and groups
  AND NOT EXISTS {
    MATCH (x:Entity)-[:RUNS_ON*0..1]->(h)
    MATCH (x)-[:DEPENDS_ON]->(first)
    WHERE first:Service OR first:Group
    WITH DISTINCT first
    MATCH p = (first)-[:DEPENDS_ON|HAS_MEMBER*0..]->(last)
    WHERE all(n IN nodes(p) WHERE n:Service OR n:Group)
    WITH DISTINCT last
    MATCH (last)-[:DEPENDS_ON|HAS_MEMBER]->(y)
    WHERE NOT (y:Service OR y:Group OR y.id STARTS WITH 'service:' OR y.id STARTS WITH 'group:')
      AND CASE WHEN y:Host THEN y.id ELSE coalesce(y.host, split(y.id, '::')[0]) END <> h.id
  }
  // y needs a service or group above x, or one above x also reaches y (peers, hosts of one service, ...)
  AND NOT EXISTS {
    MATCH (x:Entity)-[:RUNS_ON*0..1]->(h)
    MATCH (x)<-[:DEPENDS_ON|HAS_MEMBER]-(last)
    WHERE last:Service OR last:Group
    WITH DISTINCT last
    MATCH p = (last)<-[:DEPENDS_ON|HAS_MEMBER*0..]-(top)
    WHERE all(n IN nodes(p) WHERE n:Service OR n:Group)
    WITH DISTINCT top
    CALL (top) {
      MATCH (y)-[:DEPENDS_ON]->(top)
      RETURN y
      UNION
      MATCH q = (top)-[:DEPENDS_ON|HAS_MEMBER*0..]->(near)
      WHERE all(n IN nodes(q) WHERE n:Service OR n:Group)
      WITH DISTINCT near
      MATCH (near)-[:DEPENDS_ON|HAS_MEMBER]->(y)
      RETURN y
    }
    WITH y
    WHERE NOT (y:Service OR y:Group OR y.id STARTS WITH 'service:' OR y.id STARTS WITH 'group:')
      AND CASE WHEN y:Host THEN y.id ELSE coalesce(y.host, split(y.id, '::')[0]) END <> h.id
  }
RETURN [h.id] AS entities,
       h.id + ' has no declared relation with another host: nothing it needs, nothing that needs it, no group or service shared with another host' AS message
ORDER BY h.id
