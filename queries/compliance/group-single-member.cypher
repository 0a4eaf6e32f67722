// id: group-single-member
// severity: warning
// description: Redundancy groups and capabilities with fewer than two members: nothing takes over when the only
//   member fails (or, with none, nothing provides it at all).

// Every group counts (`group:<name>`: faultline::member groups, native groups, `group:capability:<name>` of
// faultline::provides), including a capability that is consumed but that no host provides (then only a
// placeholder vertex exists). Not counted: `group:service:<name>`, the hosts a faultline::service is declared on
// (kind "service"): a service declared on one host is not a redundancy claim; spof-tier1 reports it when the
// service is tier 1. A group listed as its own member does not count as one; minHealthy is not considered.

MATCH (g:Entity)
WHERE g.id STARTS WITH 'group:' AND coalesce(g.kind, '') <> 'service'
WITH g, [(g)-[:HAS_MEMBER]->(m) WHERE m <> g | m.id] AS members
WHERE size(members) < 2
RETURN [g.id] + members AS entities,
       g.id + CASE size(members)
         WHEN 0 THEN ' has no members' + CASE WHEN g:Group THEN '' ELSE ' (nothing declares or provides it)' END
         ELSE ' has a single member, ' + members[0] + ': no redundancy'
       END AS message
ORDER BY g.id
