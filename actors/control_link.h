// A sidecar node's link to its control plane in another process: it connects through the
// middleman (asynchronously, with a timeout: remote_actor blocks forever on a hung peer,
// CAF_GUIDE.md §3), attaches to the control gateway, feeds what it receives to the local
// sidecar, and reconnects with backoff when the link goes down. While disconnected the
// sidecar keeps serving the last endpoints and policies it had; /ready says so and
// actormesh_control_plane_connected is 0.
//
//   connecting ──connected──► attached ──down──► waiting (backoff 100 ms .. 5 s) ──► connecting
//       └────────failed───────────────────────────────┘
#pragma once

#include <caf/actor.hpp>

#include "actors/node_context.h"
#include "actors/sidecar.h"

namespace am::actors {

caf::actor spawn_control_link(caf::actor_system& sys, node_context& ctx, sidecar_actor sidecar);

}  // namespace am::actors
