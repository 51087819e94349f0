#include "config/model.h"

namespace am::config {

const char* to_string(role r) {
  switch (r) {
    case role::sidecar:
      return "sidecar";
    case role::discovery:
      return "discovery";
    case role::commander:
      return "commander";
    case role::global_lb:
      return "global_lb";
  }
  return "?";
}

const char* to_string(unknown_host_policy p) {
  return p == unknown_host_policy::reject ? "reject" : "passthrough";
}

}  // namespace am::config
