// The control plane's gRPC API (proto/control.proto): Commander (Apply, Get, History,
// Rollback, Status), Discovery (Endpoints, Watch), LoadBalancer (Table), Stats (Stat) and
// Federation (Clusters), served from gRPC's own threads. Each call asks the actors with a scoped
// actor and waits for the answer; Watch subscribes to discovery for as long as the client keeps the
// stream open.
#pragma once

#include <memory>
#include <string>

#include "actors/control_plane_handles.h"
#include "actors/node.h"
#include "actors/node_context.h"

namespace am::actors {

// Listens on `address:port`, with TLS and authentication as `at` says; null (and `error`)
// when the port cannot be bound or a credential file is unreadable.
std::unique_ptr<node_service> start_control_api(caf::actor_system& sys, const node_status& status,
                                                const control_plane_handles& actors,
                                                const config::api_listener& at, std::string& error);

}  // namespace am::actors
