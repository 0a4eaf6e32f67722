# @summary Declares that this host, or one of its resources, needs a named capability.
#
# The consumer depends on the group of all providers of the capability (see faultline::provides), wherever
# they are; it does not need to know which hosts they are.
#
# @example Exim needs the greylisting database, whichever host provides it
#   faultline::consumes { 'mysql-greylist':
#     from => 'Service[exim4]',
#     kind => 'hard',
#   }
#
# @param from
#   The resource of this host that needs the capability ('Service[exim4]' or Service['exim4']); by default
#   the host itself.
# @param kind
#   'hard': `from` is down when no provider is up; 'soft': `from` is only degraded.
define faultline::consumes (
  Optional[Faultline::Reference] $from = undef,
  Faultline::Kind $kind = 'hard',
) {
  faultline::name("Faultline::Consumes[${title}]: the title", 'capability', $title)
  if $from != undef {
    faultline::resource("Faultline::Consumes[${title}]", 'from', $from)
  }
}
