# @summary Declares that this host, or one of its resources, depends on another entity.
#
# The declaration only validates its parameters and manages nothing on the node: faultline's Puppet importer
# reads it from the compiled catalog and links `from` to `on` in the dependency graph.
#
# @example Exim on this host needs the greylisting database on db1
#   faultline::depends { 'greylist-db':
#     from => 'Service[exim4]',
#     on   => 'db1.example.com::Service[mysqld]',
#   }
#
# @example The whole host logs to log1, but keeps working without it
#   faultline::depends { 'syslog':
#     on   => 'log1.example.com',
#     kind => 'soft',
#   }
#
# @param on
#   What is depended on: a resource of another host ('db1.example.com::Service[mysqld]'), a resource of this
#   host ('Service[shop-app]' or Service['shop-app']), 'service:NAME', 'group:NAME' or a certname.
# @param from
#   The resource of this host that depends ('Service[exim4]' or Service['exim4']); by default the host itself.
# @param kind
#   'hard': `from` is down when `on` is down; 'soft': `from` is only degraded.
define faultline::depends (
  Faultline::Reference $on,
  Optional[Faultline::Reference] $from = undef,
  Faultline::Kind $kind = 'hard',
) {
  $declaration = "Faultline::Depends[${title}]"
  faultline::entity($declaration, 'on', $on)
  if $from != undef {
    faultline::resource($declaration, 'from', $from)
  }
}
