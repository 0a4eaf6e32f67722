# @summary A reference as the module's parameters accept it: a string such as 'Service[exim4]' or
#   'db1.example.com::Service[mysqld]', or a resource reference value such as Service['exim4'].
#
# Resource reference values are written to the compiled catalog as strings ('Service[exim4]').
type Faultline::Reference = Variant[String[1], Type[Resource]]
