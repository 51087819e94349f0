// The signals actor: the mesh's golden signals on a control-plane node. Sidecars' reports
// (every second, per service pair: requests by class, latency buckets) come in directly or
// through the control gateway; lb::signal_windows merges them over 10 s, 1 min and 10 min;
// the API's Stat call (meshctl stat) asks it for rows.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"
#include "lb/signal_windows.h"

namespace am::actors {

using signals_actor = caf::typed_actor<
    caf::reacts_to<signals_atom, config::signals_report>,
    caf::replies_to<stat_atom, lb::signal_query>::with<std::vector<lb::signal_row>>,
    // the breakers and ejections each sidecar reported lately (the console)
    caf::replies_to<health_atom>::with<config::health_by_sidecar>, caf::reacts_to<poll_atom>>;

signals_actor spawn_signals(caf::actor_system& sys, node_context& ctx);

}  // namespace am::actors

// Queries and rows stay in-process (the API runs in the control plane's process).
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::lb::signal_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<am::lb::signal_row>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::config::health_by_sidecar)
