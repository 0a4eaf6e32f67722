// id: unowned
// severity: error
// description: Hosts with no owning team: nobody to page or to tell when they fail.

// A host is owned when it has an OWNED_BY relation to a team: faultline::owner in its catalog, `owner` in the
// native format, or an owner fact (facts.owner in faultline.yaml). Resources inherit their host's owner and are
// not checked; unmanaged hosts are not checked.

MATCH (h:Host)
WHERE h.managed = true AND NOT EXISTS { (h)-[:OWNED_BY]->(:Team) }
RETURN [h.id] AS entities, h.id + ' has no owning team' AS message
ORDER BY h.id
