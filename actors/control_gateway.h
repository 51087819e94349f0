// The control gateway of a control-plane node: published through the middleman, it lets
// sidecars in other processes attach. It subscribes (locally) to discovery and to the
// commander's documents and forwards each version to every attached sidecar (endpoints only
// for the services a sidecar uses, when it names them); a new one gets the latest at once.
// Sidecars acknowledge each config version they apply; the gateway keeps every sidecar's
// status (connected or not, its version) for the API's Status call.
//
//   sidecar node: control_link ──attach, ack──► control_gateway ◄── discovery, commander
//                 control_link ◄──endpoints, document──┘
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/commander.h"
#include "actors/discovery.h"
#include "actors/global_lb.h"
#include "actors/signals.h"

namespace am::actors {

using control_gateway_actor =
    caf::typed_actor<caf::reacts_to<endpoints_atom, uint64_t, config::endpoint_table>,
                     caf::reacts_to<document_atom, uint64_t, std::string>,
                     // (the sidecar's control link, its node name, the services it uses; empty:
                     // all)
                     caf::reacts_to<attach_atom, caf::actor, std::string, std::vector<std::string>>,
                     caf::reacts_to<ack_atom, uint64_t>,
                     caf::replies_to<status_atom>::with<std::vector<sidecar_status>>,
                     // a remote sidecar's load, for the global-lb (null: none on this node)
                     caf::reacts_to<load_atom, net::load_report>,
                     // a remote sidecar's golden signals, for the signals actor
                     caf::reacts_to<signals_atom, config::signals_report>,
                     // a tap session's filter (passed on to every attached sidecar, and to
                     // those that attach while it lasts) and its end
                     caf::reacts_to<tap_atom, config::tap_filter, caf::actor>,
                     caf::reacts_to<untap_atom, caf::actor>>;

control_gateway_actor spawn_control_gateway(caf::actor_system& sys, node_context& ctx,
                                            discovery_actor discovery, commander_actor commander,
                                            global_lb_actor global_lb, signals_actor signals);

// The part of `table` a sidecar that uses `services` needs (all of it when `services` is empty).
config::endpoint_table endpoints_for(const config::endpoint_table& table,
                                     const std::vector<std::string>& services);

}  // namespace am::actors
