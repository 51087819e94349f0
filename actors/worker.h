// A worker actor is the facade of one data-plane worker (net::proxy_worker): it owns the
// worker and its event-loop thread (joined when the actor's state is destroyed) and turns
// control messages into posts to the loop. No request ever waits on this actor.
#pragma once

#include <memory>

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::net {
class proxy_worker;
}

namespace am::actors {

using worker_actor =
    caf::typed_actor<caf::replies_to<snapshot_atom, net::routing_snapshot_ptr>::with<uint64_t>,
                     caf::reacts_to<installed_atom>,
                     caf::reacts_to<health_atom, std::string, net::service_health_ptr>,
                     caf::reacts_to<lease_atom, std::string, uint64_t>,
                     caf::reacts_to<weights_atom, net::weight_table_ptr>, caf::reacts_to<load_atom>,
                     caf::reacts_to<tap_atom, net::tap_set_ptr, std::shared_ptr<net::tap_sink>>,
                     caf::replies_to<drain_atom>::with<bool>, caf::reacts_to<drained_atom>>;

// `worker` has its listeners open and its thread started.
worker_actor spawn_worker(caf::actor_system& sys, node_context& ctx,
                          std::shared_ptr<net::proxy_worker> worker);

}  // namespace am::actors
