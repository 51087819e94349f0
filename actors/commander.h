// The commander owns the mesh's service policies and pushes each accepted version to its
// subscribers (the sidecars). Its input is the node file, watched: an edit of its `services`
// section is validated whole and, when valid, pushed as a new version (requests in flight
// finish under the policy they started with); an invalid edit is logged with its field
// paths and changes nothing. The control-plane issue adds the gRPC API and Kubernetes
// resources.
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::actors {

using services_sink = caf::typed_actor<caf::reacts_to<services_atom, uint64_t, service_map>>;

// Subscribers in other processes get the validated document itself (service policies hold
// compiled regexes and stay in-process); only a watched file has one.
using document_sink = caf::typed_actor<caf::reacts_to<document_atom, uint64_t, std::string>>;

using commander_actor =
    caf::typed_actor<caf::reacts_to<subscribe_atom, services_sink>,
                     caf::reacts_to<subscribe_atom, document_sink>, caf::reacts_to<poll_atom>>;

// `watched_file` (may be empty) is the node file the initial services came from.
commander_actor spawn_commander(caf::actor_system& sys, node_context& ctx, service_map initial,
                                std::string watched_file);

}  // namespace am::actors
