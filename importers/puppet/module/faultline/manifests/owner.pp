# @summary Declares the team that owns this host, or one of its resources, and how to reach it.
#
# Without `resource` the team owns the host, and the host's resources inherit it. With `resource` it owns
# that resource only. Contacts are channel:address strings.
#
# @example The DBAs own this host
#   faultline::owner { 'dba':
#     contacts => ['email:dba@example.com', 'slack:#dba'],
#   }
#
# @example Network operations own the DNS resolver on a host someone else owns
#   faultline::owner { 'netops':
#     contacts => ['email:netops@example.com'],
#     resource => 'Service[unbound]',
#   }
#
# @param contacts
#   How to reach the team, e.g. 'email:dba@example.com', 'slack:#dba', 'pagerduty:ROUTING-KEY'.
# @param resource
#   The resource of this host the team owns ('Service[unbound]' or Service['unbound']); by default the host.
define faultline::owner (
  Array[String[1]] $contacts = [],
  Optional[Faultline::Reference] $resource = undef,
) {
  faultline::name("Faultline::Owner[${title}]: the title", 'team', $title)
  if $resource != undef {
    faultline::resource("Faultline::Owner[${title}]", 'resource', $resource)
  }
}
