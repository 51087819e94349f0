// Export and import between clusters, as plain functions: what this cluster offers its peers
// (its own endpoints of the services marked `export: true`, behind its ingress) and what a
// peer's offer becomes in this cluster's discovery (one endpoint per service: the peer's
// ingress, labelled with the peer's cluster and its place in the failover order).
#pragma once

#include <map>
#include <string>

#include "config/federation.h"
#include "config/model.h"

namespace am::federation {

// An endpoint of this cluster: one that names no cluster, or this one. Imported endpoints
// always name theirs, so a cluster never re-exports what it imported.
bool is_local(const config::endpoint& ep, const std::string& cluster);

// `merged` without the endpoints imported from other clusters (services left empty stay, so
// a service whose endpoints all live elsewhere is known but has none here).
config::endpoint_table local_endpoints(const config::endpoint_table& merged,
                                       const std::string& cluster);

// The exported services (by name), each with its count of local endpoints and their zones,
// reached at `ingress` (over mesh TLS when `ingress_tls`).
config::export_list exports_of(const config::endpoint_table& local,
                               const std::map<std::string, config::service>& services,
                               const config::listener& ingress, bool ingress_tls);

// A peer's exports as a discovery source: its ingress for every service it has endpoints of,
// labelled `cluster: NAME` and `cluster_rank: PRIORITY` (its place in this cluster's failover
// order, 0 first), and `tls: mesh` when the ingress speaks TLS, with the peer's weight.
config::endpoint_table imports_of(const config::federation_peer& peer,
                                  const config::export_list& exports);

}  // namespace am::federation
