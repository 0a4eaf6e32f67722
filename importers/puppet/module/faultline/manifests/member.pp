# @summary Declares this host, or one of its resources, a member of an explicit redundancy group.
#
# The group `group:NAME` is down when fewer than `min_healthy` of its members are up (1 unless declared).
# Declare the same `min_healthy` on every member.
#
# @example A three-member MongoDB shard that needs two members up
#   faultline::member { 'mongodb-shard1':
#     resource    => 'Service[mongod]',
#     min_healthy => 2,
#   }
#
# @param resource
#   The member resource of this host ('Service[mongod]' or Service['mongod']); by default the host itself.
# @param min_healthy
#   How many members must be up for the group to be up.
define faultline::member (
  Optional[Faultline::Reference] $resource = undef,
  Optional[Integer[1]] $min_healthy = undef,
) {
  faultline::name("Faultline::Member[${title}]: the title", 'group', $title)
  if $resource != undef {
    faultline::resource("Faultline::Member[${title}]", 'resource', $resource)
  }
}
