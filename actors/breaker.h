// The breaker actor of one service, per sidecar: it runs the service's circuit breaker and
// outlier detector over the attempt outcomes the workers batch to it, and sends the workers
// each new decision as a service_health snapshot (DESIGN.md §3: workers never ask, they
// learn by message). The decisions themselves are policy/ code with the actor's clock passed in.
//
//   outcome batches ──► breaker actor ──health──► worker × N ──► new requests
//   configure (the service's policy, its endpoints by id) from the sidecar with every
//   snapshot: what did not change keeps its state (an open breaker stays open, an ejected
//   endpoint stays ejected), and workers hear only of real changes.
//
// Its timer runs only while time can change something: every 25 ms while the breaker is
// open or an endpoint is ejected, once per detection interval for outlier detection's rate
// detectors, and not at all for a closed breaker alone (a mesh of idle services stays idle).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"
#include "actors/worker.h"

namespace am::actors {

using breaker_actor =
    caf::typed_actor<caf::reacts_to<configure_atom, config::service, net::endpoint_names>,
                     caf::reacts_to<outcomes_atom, net::outcome_batch>,
                     caf::reacts_to<poll_atom, uint64_t>>;

// Does nothing until its first configure.
breaker_actor spawn_breaker(caf::actor_system& sys, node_context& ctx, std::string service,
                            std::vector<worker_actor> workers);

// The sink workers hand their outcome batches to: a one-way send to the breaker actor.
std::shared_ptr<net::outcome_sink> make_outcome_sink(breaker_actor breaker);

}  // namespace am::actors
