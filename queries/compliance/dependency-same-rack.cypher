// id: dependency-same-rack
// severity: warning
// description: A dependent and its dependency on different hosts in the same rack: one rack failure takes both.

// Dependencies are DEPENDS_ON, hard or soft (the message says "softly" when the dependent's own DEPENDS_ON is
// soft), from a host or a resource. A dependency on a service or group is
// followed through services and groups (DEPENDS_ON, HAS_MEMBER) to the hosts and resources they stand for, so
// Exim needing a capability one of whose providers shares Exim's rack is reported (naming the capability).
// Hosts are those of the two ends (a resource's via RUNS_ON). "Same rack": both hosts have the same `rack`
// fact, and not different `location` facts (rack names are often reused across data centres). Hosts without a
// `rack` fact are not judged.

MATCH (a:Entity)-[d:DEPENDS_ON]->(b)
WHERE NOT (a:Service OR a:Group)
MATCH (a)-[:RUNS_ON*0..1]->(ha:Host)
WHERE ha.rack IS NOT NULL
CALL (b) {
  MATCH (b)
  WHERE NOT (b:Service OR b:Group)
  RETURN b AS y, null AS via
  UNION
  MATCH (b)
  WHERE b:Service OR b:Group
  MATCH p = (b)-[:DEPENDS_ON|HAS_MEMBER*0..]->(last)
  WHERE all(n IN nodes(p) WHERE n:Service OR n:Group)
  WITH DISTINCT b, last
  MATCH (last)-[:DEPENDS_ON|HAS_MEMBER]->(y)
  WHERE NOT (y:Service OR y:Group)
  RETURN DISTINCT y, b AS via
}
MATCH (y)-[:RUNS_ON*0..1]->(hb:Host)
WHERE hb <> ha AND hb.rack = ha.rack
  AND (ha.location IS NULL OR hb.location IS NULL OR ha.location = hb.location)
WITH a, y, ha, hb, collect(DISTINCT via.id) AS through, collect(DISTINCT d.kind) AS kinds
RETURN [a.id, y.id] AS entities,
       a.id + ' depends ' + CASE WHEN kinds = ['soft'] THEN 'softly ' ELSE '' END + 'on ' + y.id
         + CASE WHEN size(through) = 0 THEN '' ELSE ' (through ' + reduce(text = '', v IN through | text + CASE WHEN text = '' THEN '' ELSE ', ' END + v) + ')' END
         + CASE WHEN ha = a AND hb = y THEN ': both are' ELSE ': their hosts ' + ha.id + ' and ' + hb.id + ' are' END
         + ' in rack ' + ha.rack + CASE WHEN coalesce(ha.location, hb.location) IS NULL THEN '' ELSE ' of ' + coalesce(ha.location, hb.location) END AS message
ORDER BY a.id, y.id
