// The retry actor of one service, per sidecar: it keeps the service's retry budget
// (policy::retry_budget: retries at most a ratio of requests, with a floor per second) over
// the usage all workers report every tick, and answers each report with that worker's next
// lease of retry tokens. Workers never ask per request (DESIGN.md §3); a failing service
// does not get its load multiplied by the retry count.
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"
#include "actors/worker.h"

namespace am::actors {

// configure: the service's budget settings, sent with every snapshot; the budget starts over
// only when they changed.
using retry_actor = caf::typed_actor<caf::reacts_to<usage_atom, net::usage_report>,
                                     caf::reacts_to<configure_atom, config::retry_budget_spec>>;

// Sends every worker its first lease (the budget's floor) at once.
retry_actor spawn_retry(caf::actor_system& sys, node_context& ctx, config::service policy,
                        std::vector<worker_actor> workers);

std::shared_ptr<net::usage_sink> make_usage_sink(retry_actor actor);

}  // namespace am::actors
