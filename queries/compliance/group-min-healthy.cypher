// id: group-min-healthy
// severity: warning
// description: Groups that need more healthy members than they have (minHealthy above the member count): faultline
//   treats them as needing every member, so any one of them failing takes the group down.

// Usually a group whose members are not all imported yet, or a minHealthy that was not lowered when a member was
// retired. A group with no members is not judged here (group-single-member reports it); a group listed as its own
// member does not count as one.

MATCH (g:Group)-[:HAS_MEMBER]->(m)
WHERE m <> g
WITH g, m ORDER BY m.id
WITH g, collect(m.id) AS members
WHERE coalesce(g.minHealthy, 1) > size(members)
RETURN [g.id] + members AS entities,
       g.id + ' needs ' + toString(g.minHealthy) + ' healthy members but has ' + toString(size(members)) +
         ': any one failing takes it down' AS message
ORDER BY g.id
