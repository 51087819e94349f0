// The discovery actor merges what its sources know into one versioned endpoint table and
// pushes it to subscribers. A source sends its whole view each time; a source that fails
// sends nothing, so its last good view stays (a blip never empties a service). A version at
// most every 50 ms (the first 50 ms after spawn): a change after a quiet spell goes out at
// once, a burst is coalesced, and so are the sources' first views.
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::actors {

using endpoints_sink =
    caf::typed_actor<caf::reacts_to<endpoints_atom, uint64_t, config::endpoint_table>>;

using discovery_actor =
    caf::typed_actor<caf::reacts_to<source_atom, std::string, config::endpoint_table>,
                     caf::reacts_to<settle_atom>, caf::reacts_to<subscribe_atom, endpoints_sink>>;

discovery_actor spawn_discovery(caf::actor_system& sys, node_context& ctx);

// Unions the sources' tables; an endpoint listed by two sources appears once.
config::endpoint_table merge_sources(const std::map<std::string, config::endpoint_table>& sources);

}  // namespace am::actors
