# @summary Checks a reference to a resource of this host and returns it as text.
#
# @api private
#
# @param declaration The declaring resource, for the error message, e.g. 'Faultline::Check[mailq]'.
# @param parameter The parameter being checked, for the error message.
# @param value 'Service[exim4]', or the resource reference Service['exim4'].
#
# @return [String] The reference as text, e.g. 'Service[exim4]'.
function faultline::resource(
  String $declaration,
  String $parameter,
  Faultline::Reference $value,
) >> String {
  $text = "${value}"
  # Type[title], the title not empty (nor only quotes: Service[''])
  unless $text =~ /\A[A-Za-z][A-Za-z0-9_]*(?:::[A-Za-z][A-Za-z0-9_]*)*\[.*[^\s'"\[\]].*\]\z/ {
    fail(@("MESSAGE"/L))
      ${declaration}: ${parameter} must be a resource of this host written Type[title], \
      e.g. 'Service[exim4]' or 'Apache::Vhost[shop.example.com]'; got '${text}'
      |- MESSAGE
  }
  $text
}
