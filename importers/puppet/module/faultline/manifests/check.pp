# @summary Maps a monitoring check of this host to what it watches.
#
# An alert for check NAME on this host (alert id `CERTNAME/NAME`) is about `resource`, or about the host
# itself when no resource is given.
#
# @example The mail queue check watches Exim
#   faultline::check { 'mailq':
#     resource => 'Service[exim4]',
#   }
#
# @example The disk check is about the host
#   faultline::check { 'disk': }
#
# @param resource
#   The resource of this host the check watches ('Service[exim4]' or Service['exim4']); by default the host.
define faultline::check (
  Optional[Faultline::Reference] $resource = undef,
) {
  faultline::name("Faultline::Check[${title}]: the title", 'check', $title)
  if $resource != undef {
    faultline::resource("Faultline::Check[${title}]", 'resource', $resource)
  }
}
