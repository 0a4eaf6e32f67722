# @summary Checks a reference to any faultline entity and returns it as text.
#
# Accepted: a resource of this host ('Service[rsyslog]'), a resource of another host
# ('log1.example.com::Service[rsyslog]', the certname must contain a dot), a service ('service:mail'),
# a group ('group:mongodb-shard1', 'group:capability:mysql-greylist') or a host by its certname
# ('log1.example.com').
#
# @api private
#
# @param declaration The declaring resource, for the error message, e.g. 'Faultline::Depends[syslog]'.
# @param parameter The parameter being checked, for the error message.
# @param value The reference, as a string or a resource reference value.
#
# @return [String] The reference as text.
function faultline::entity(
  String $declaration,
  String $parameter,
  Faultline::Reference $value,
) >> String {
  $text = "${value}"
  $resource = '[A-Za-z][A-Za-z0-9_]*(?:::[A-Za-z][A-Za-z0-9_]*)*\[.*[^\s\'"\[\]].*\]'
  $certname = '[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*'
  $remote = '[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)+'
  $valid = [
    "\\A(?:service|group):\\S+\\z",
    "\\A${remote}::${resource}\\z",
    "\\A${resource}\\z",
    "\\A${certname}\\z",
  ].any |$pattern| { $text =~ Regexp($pattern) }
  unless $valid {
    fail(@("MESSAGE"/L))
      ${declaration}: ${parameter} must be an entity: a resource of this host ('Service[rsyslog]'), \
      a resource of another host ('log1.example.com::Service[rsyslog]'), 'service:NAME', 'group:NAME' \
      or a certname ('log1.example.com'); got '${text}'
      |- MESSAGE
  }
  $text
}
