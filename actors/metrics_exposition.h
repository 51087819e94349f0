// Renders the node's counters in the Prometheus text format (through prometheus-cpp's
// serializer): traffic per service and direction, proxy connection counters, and per actor.
#pragma once

#include <string>

#include "actors/actor_metrics.h"
#include "net/traffic_stats.h"

namespace am::actors {

// `control_plane_connected`: 1 or 0 for a node attached to a remote control plane, -1 (no
// metric) otherwise.
std::string render_metrics(const net::stats_registry& stats, const actor_metrics_registry& actors,
                           int control_plane_connected = -1);

}  // namespace am::actors
