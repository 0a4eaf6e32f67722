# @summary How a dependency fails: `hard` (the dependent is down when its dependency is down) or `soft` (degraded).
type Faultline::Kind = Enum['hard', 'soft']
