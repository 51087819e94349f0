// The sidecar actor supervises the data-plane workers: it joins the commander's service
// policies with discovery's endpoints into routing snapshots, sends each worker the new
// snapshot, and drains the workers on shutdown.
//
//   starting ──services + endpoints──► serving ──drain──► draining ──all drained──► (reply)
#pragma once

#include <string>
#include <vector>

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::actors {

using sidecar_actor = caf::typed_actor<
    caf::reacts_to<endpoints_atom, uint64_t, config::endpoint_table>,
    caf::reacts_to<services_atom, uint64_t, service_map>,
    caf::replies_to<in_force_atom, uint64_t>::with<uint64_t>,
    caf::replies_to<drain_atom>::with<bool>, caf::reacts_to<load_atom, net::load_report>,
    caf::reacts_to<weights_atom, net::weight_table>, caf::reacts_to<report_to_atom, caf::actor>,
    caf::reacts_to<signals_to_atom, caf::actor>, caf::reacts_to<poll_atom>,
    caf::reacts_to<trim_atom>, caf::reacts_to<tap_atom, config::tap_filter, caf::actor>,
    caf::reacts_to<untap_atom, caf::actor>, caf::reacts_to<tap_atom, net::tap_batch>>;

// Opens the listeners of every worker first, so that a port in use fails here, with `error`
// set and no actor spawned.
bool spawn_sidecar(caf::actor_system& sys, node_context& ctx, sidecar_actor& out,
                   std::string& error);

}  // namespace am::actors
