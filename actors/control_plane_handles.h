// The actors of a control-plane node that its gRPC and watcher services talk to.
#pragma once

#include "actors/commander.h"
#include "actors/control_gateway.h"
#include "actors/discovery.h"

namespace am::actors {

struct control_plane_handles {
  discovery_actor discovery;
  commander_actor commander;
  control_gateway_actor gateway;  // null unless control.listen is set
};

}  // namespace am::actors
