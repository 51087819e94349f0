// Parsers for the traffic-policy sections of a service (retry, retry_budget, breaker, limits,
// outlier, routes, access). Regular expressions are compiled here, once, and a bad one is an
// error with its field path.
#pragma once

#include "config/model.h"
#include "config/yaml_reader.h"

namespace am::config {

// Reads the policy fields of one service mapping into `svc`.
void read_service_policies(detail::reader& r, service& svc);

}  // namespace am::config
