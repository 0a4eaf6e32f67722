// id: group-single-az
// severity: error
// description: Groups whose members all sit in one availability zone: one zone outage takes the whole group.

// A member's zone is its own `az`, else the `az` of the host it RUNS_ON (or, for a resource no longer in its
// host's catalog, of the host its `host` property names). Members that are themselves services or groups have
// no zone. A group is judged only when it has at least two members and every member's zone is known: a group
// with one member is group-single-member's business, and a group with a member of unknown zone is not reported
// (import the `az` fact, docs/facts.md). Service groups (`group:service:<name>`, the hosts of a service) count:
// they are the service's replicas.

MATCH (g:Group)-[:HAS_MEMBER]->(m)
OPTIONAL MATCH (m)-[:RUNS_ON*0..1]->(h:Host)
OPTIONAL MATCH (o:Entity {id: m.host})
WITH g, m, coalesce(m.az, h.az, o.az) AS az
ORDER BY m.id
WITH g, collect({id: m.id, az: az}) AS members
WHERE size(members) >= 2 AND all(x IN members WHERE x.az IS NOT NULL)
WITH g, members, members[0].az AS zone
WHERE all(x IN members WHERE x.az = zone)
RETURN [g.id] + [x IN members | x.id] AS entities,
       g.id + ': all ' + size(members) + ' members are in availability zone ' + zone + ' ('
         + reduce(text = '', x IN members | text + CASE WHEN text = '' THEN '' ELSE ', ' END + x.id) + ')' AS message
ORDER BY g.id
