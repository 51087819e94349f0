// The control gateway of a control-plane node: published through the middleman, it lets
// sidecars in other processes attach. It subscribes (locally) to discovery and to the
// commander's documents and forwards each version to every attached sidecar; a new one gets
// the latest at once. Attached sidecars are monitored and dropped when they go away.
//
//   sidecar node: control_link ──attach──► control_gateway ◄── discovery, commander
//                 control_link ◄──endpoints, document──┘
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/commander.h"
#include "actors/discovery.h"

namespace am::actors {

using control_gateway_actor =
    caf::typed_actor<caf::reacts_to<endpoints_atom, uint64_t, config::endpoint_table>,
                     caf::reacts_to<document_atom, uint64_t, std::string>,
                     caf::reacts_to<attach_atom, caf::actor>>;

control_gateway_actor spawn_control_gateway(caf::actor_system& sys, node_context& ctx,
                                            discovery_actor discovery, commander_actor commander);

}  // namespace am::actors
