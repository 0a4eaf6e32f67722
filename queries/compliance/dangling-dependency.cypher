// id: dangling-dependency
// severity: error
// description: Dependencies on unmanaged or unknown entities: something managed needs an entity that no import
//   declares (a placeholder) or that is no longer managed (absent from the last full import of its source, or a
//   resource gone from its host's catalog).

// Needs = a DEPENDS_ON, hard or soft, or a group counting it as a member. Only managed dependents are named:
// what an unmanaged host declared is not its owners' problem any more. One row per unmanaged entity.

MATCH (b:Entity)
WHERE b.managed IS NULL OR b.managed <> true
CALL (b) {
  MATCH (a:Entity)-[:DEPENDS_ON]->(b)
  WHERE a.managed = true
  RETURN a
  UNION
  MATCH (a:Group)-[:HAS_MEMBER]->(b)
  WHERE a.managed = true
  RETURN a
}
WITH b, a ORDER BY a.id
WITH b, collect(a.id) AS dependents
RETURN [b.id] + dependents AS entities,
       b.id + CASE WHEN b:Host OR b:Resource OR b:Service OR b:Group
                   THEN ' is no longer managed' ELSE ' is unknown (no import declares it)' END
         + ', yet ' + reduce(text = '', i IN range(0, size(dependents) - 1) | text
             + CASE WHEN i = 0 THEN '' WHEN i = size(dependents) - 1 THEN ' and ' ELSE ', ' END + dependents[i])
         + CASE WHEN size(dependents) = 1 THEN ' needs' ELSE ' need' END + ' it' AS message
ORDER BY b.id
