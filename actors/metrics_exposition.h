// Renders the node's counters in the Prometheus text format (through prometheus-cpp's
// serializer): traffic per service and direction, proxy connection counters, and per actor.
#pragma once

#include <string>

#include "actors/actor_metrics.h"
#include "actors/node_context.h"
#include "net/traffic_stats.h"

namespace am::actors {

// Also the node's control-plane state from `status`: a sidecar's link to its control plane;
// a control plane's config version and its sidecars.
std::string render_metrics(const net::stats_registry& stats, const actor_metrics_registry& actors,
                           const node_status& status);

}  // namespace am::actors
