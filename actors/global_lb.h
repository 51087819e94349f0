// The global-lb actor (role `global_lb`): load balancing with the whole mesh's view (DESIGN.md
// §5). Every sidecar reports, once a second, the load of the endpoints of its `lb: global`
// services; once a second the actor merges the window of reports per service, computes
// endpoint weights with lb::global_weights (pure code: the algorithm and its sources are
// described there), and sends each sidecar that reported lately the weights of the services
// it reported. Weights go back to whoever sent the report: a sidecar of the same node, or a
// remote sidecar's control link (the control gateway delegates reports here, keeping their
// sender).
//
//   sidecar ──load (1/s)──► global_lb ──weights (1/s)──► sidecar ──► worker × N
//   meshctl lb ──API──► lb_status ──► the service's table (JSON)
#pragma once

#include <string>
#include <vector>

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::actors {

// One service's table, for the operator (meshctl lb).
struct lb_table_endpoint {
  std::string endpoint;
  uint32_t weight = 0;
  double requests_per_s = 0;
  double mean_latency_ms = 0;
  uint64_t errors = 0;
  uint64_t active = 0;
  uint32_t ejected_by = 0;
};

struct lb_table {
  std::string service;
  bool known = false;
  uint64_t version = 0;
  int64_t age_ms = 0;
  uint64_t sidecars = 0;
  std::vector<lb_table_endpoint> endpoints;
};

using global_lb_actor =
    caf::typed_actor<caf::reacts_to<load_atom, net::load_report>,
                     caf::replies_to<lb_status_atom, std::string>::with<lb_table>,
                     caf::reacts_to<poll_atom>>;

global_lb_actor spawn_global_lb(caf::actor_system& sys, node_context& ctx);

}  // namespace am::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::actors::lb_table)
