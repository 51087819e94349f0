// The commander owns the mesh's service policies and pushes each accepted version to its
// subscribers (the sidecars). For now its only input is the node file; the control-plane
// issue adds watched files, the gRPC API and Kubernetes resources.
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::actors {

using services_sink = caf::typed_actor<caf::reacts_to<services_atom, uint64_t, service_map>>;

using commander_actor = caf::typed_actor<caf::reacts_to<subscribe_atom, services_sink>>;

commander_actor spawn_commander(caf::actor_system& sys, node_context& ctx, service_map initial);

}  // namespace am::actors
