// Where a sidecar or an endpoint runs, and how a service prefers nearby endpoints. Plain
// structs: lb/locality holds the logic, config/load reads them.
#pragma once

#include <string>
#include <vector>

namespace am::config {

// Outermost level first. An empty field is unknown: it matches nothing, so an endpoint
// without a zone is never "in my zone".
struct location {
  std::string cluster;
  std::string region;
  std::string zone;
  std::string node;
  // For an endpoint of another cluster (imported by federation): its cluster's place in the
  // importing gateway's failover order, 0 first (label `cluster_rank`).
  unsigned cluster_rank = 0;

  bool empty() const { return cluster.empty() && region.empty() && zone.empty() && node.empty(); }
  friend bool operator==(const location&, const location&) = default;
};

enum class locality_level { node, zone, region };

// When the sidecar runs in zone `from`, the endpoints of the zones `to` come next after its
// own zone, in that order, before the rest of its region.
struct zone_failover {
  std::string from;
  std::vector<std::string> to;
  friend bool operator==(const zone_failover&, const zone_failover&) = default;
};

// `services.NAME.locality`: the levels a service prefers, closest first. Endpoints of the
// sidecar's own cluster come after the preferred levels; other clusters' last, one level per
// cluster in their failover order.
struct locality_spec {
  std::vector<locality_level> prefer{locality_level::zone, locality_level::region};
  std::vector<zone_failover> failover;
  // Envoy's overprovisioning factor: a level whose healthy share (by weight) times this
  // reaches 1 takes all the traffic; below that the rest spills to the next level.
  double overprovisioning = 1.4;
  friend bool operator==(const locality_spec&, const locality_spec&) = default;
};

}  // namespace am::config
