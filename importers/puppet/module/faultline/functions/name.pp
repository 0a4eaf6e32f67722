# @summary Checks a name: a capability, group, team, check or service name (no spaces).
#
# @api private
#
# @param where What is checked, for the error message, e.g. "Faultline::Provides['my db']: the title".
# @param what What the value names, for the error message, e.g. 'capability'.
# @param value The name.
#
# @return [String] The name.
function faultline::name(
  String $where,
  String $what,
  String $value,
) >> String {
  unless $value =~ /\A\S+\z/ {
    fail("${where} is a ${what} name and must not contain spaces; got '${value}'")
  }
  $value
}
