// The actors of a control-plane node that its gRPC and watcher services talk to.
#pragma once

#include "actors/commander.h"
#include "actors/control_gateway.h"
#include "actors/discovery.h"
#include "actors/global_lb.h"
#include "actors/sidecar.h"
#include "actors/signals.h"

namespace am::actors {

struct control_plane_handles {
  discovery_actor discovery;
  commander_actor commander;
  control_gateway_actor gateway;  // null unless control.listen is set
  global_lb_actor global_lb;      // null unless the node has the global_lb role
  signals_actor signals;          // the golden signals (a node with the discovery role)
  sidecar_actor sidecar;          // the node's own sidecar (null: none), for taps
};

}  // namespace am::actors
