# @summary Declares that this host, or one of its resources, provides a named capability.
#
# All providers of a capability, across the estate, form the group `group:capability:NAME`, which is up while
# at least one provider is up. Consumers (faultline::consumes) depend on that group: two providers are
# redundant, a single provider is a single point of failure.
#
# @example This host's MySQL provides the greylisting database
#   faultline::provides { 'mysql-greylist':
#     resource => 'Service[mysqld]',
#   }
#
# @param resource
#   The resource of this host that provides the capability ('Service[mysqld]' or Service['mysqld']); by
#   default the host itself.
define faultline::provides (
  Optional[Faultline::Reference] $resource = undef,
) {
  faultline::name("Faultline::Provides[${title}]: the title", 'capability', $title)
  if $resource != undef {
    faultline::resource("Faultline::Provides[${title}]", 'resource', $resource)
  }
}
