# @summary Declares that this host, or one of its resources, runs (part of) a business service.
#
# Every host or resource that declares the service NAME joins the group `group:service:NAME`, and the service
# `service:NAME` depends on that group: a service declared on two hosts survives either one failing (unless
# `min_healthy` says otherwise). Declare `tier`, `owner` and `critical` the same way everywhere.
#
# @example Mail, run by Exim on this host (and on its twin)
#   faultline::service { 'mail':
#     tier     => 1,
#     owner    => 'mail-team',
#     resource => 'Service[exim4]',
#   }
#
# @param tier
#   Business tier: lower is more important, and tier 1 is what faultline's tier-1 reports (single points of
#   failure of a tier-1 service) look at.
# @param owner
#   The team that owns the service (a team name as in faultline::owner).
# @param resource
#   The resource of this host that runs the service ('Service[exim4]' or Service['exim4']); by default the
#   host itself.
# @param min_healthy
#   How many of the service's hosts or resources must be up for the service to be up (1 unless declared).
# @param critical
#   Marks the service critical (or explicitly not).
define faultline::service (
  Optional[Integer[0]] $tier = undef,
  Optional[String[1]] $owner = undef,
  Optional[Faultline::Reference] $resource = undef,
  Optional[Integer[1]] $min_healthy = undef,
  Optional[Boolean] $critical = undef,
) {
  faultline::name("Faultline::Service[${title}]: the title", 'service', $title)
  if $owner != undef {
    faultline::name("Faultline::Service[${title}]: owner", 'team', $owner)
  }
  if $resource != undef {
    faultline::resource("Faultline::Service[${title}]", 'resource', $resource)
  }
}
