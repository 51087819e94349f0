// The control-plane sources that follow another system: etcd and Kubernetes EndpointSlices
// for discovery, Kubernetes MeshConfig resources for the commander. Each is a source actor
// (a thin shell that forwards what its watcher thread found, with the actor metrics every
// actor has) plus the watcher itself; the returned node_service stops both.
#pragma once

#include <memory>

#include "actors/control_plane_handles.h"
#include "actors/node.h"

namespace am::actors {

std::unique_ptr<node_service> start_etcd_source(caf::actor_system& sys, node_context& ctx,
                                                discovery_actor discovery);

std::unique_ptr<node_service> start_k8s_endpoint_source(caf::actor_system& sys, node_context& ctx,
                                                        discovery_actor discovery);

std::unique_ptr<node_service> start_k8s_config_source(caf::actor_system& sys, node_context& ctx,
                                                      commander_actor commander);

// Everything of the above and the gRPC API that `node` asks for: the full executable's
// control_plane_starter.
std::vector<std::unique_ptr<node_service>> start_control_plane_services(
    caf::actor_system& sys, node_context& ctx, const control_plane_handles& actors,
    std::string& error);

}  // namespace am::actors
