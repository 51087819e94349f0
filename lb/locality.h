// Locality-aware load balancing, after Envoy's priority levels: each endpoint gets a priority
// (0 is the closest level the service prefers that it shares with the sidecar), and traffic
// goes to the closest priority while it has enough healthy capacity, spilling to the next as
// its healthy share falls.
//
// Spill-over (Envoy's overprovisioning factor, 1.4 by default): priority i is
// health_i = min(1, factor * healthy_weight_i / weight_i) healthy. Priority 0 takes health_0
// of the traffic, priority 1 min(what is left, health_1), and so on; when the healths add up
// to less than 1 they are scaled up to fill it. So a zone with 3 of 4 endpoints healthy
// (1.4 * 0.75 >= 1) keeps all its traffic; with 1 of 2 healthy it keeps 70% and sends 30% on.
// When nothing is healthy anywhere, the closest priority takes everything (and its picker's
// "everything is failing" rule applies).
#pragma once

#include <cstdint>
#include <vector>

#include "config/locality.h"

namespace am::lb {

// The priority of an endpoint at `endpoint` for a sidecar at `self`: the index of the first
// preferred level they share (with the failover zones of `self`'s zone right after the zone
// level); then the same cluster; then other clusters, each a level of its own in the order of
// their `cluster_rank`. An endpoint that names no cluster is in the sidecar's own (discovery
// labels the endpoints it imports from other clusters), so a sidecar that does not know where
// it runs still puts other clusters last and treats all the rest alike.
uint8_t priority_of(const config::location& self, const config::location& endpoint,
                    const config::locality_spec& spec);

// The share of traffic of each priority (in order, each one present), from the weight of its
// eligible members and of all its members. The shares add up to 1.
std::vector<double> priority_shares(const std::vector<uint64_t>& healthy_weight,
                                    const std::vector<uint64_t>& total_weight,
                                    double overprovisioning);

}  // namespace am::lb
