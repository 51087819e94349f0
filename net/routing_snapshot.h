// What a worker needs to route a request, built on the control path and handed to workers as
// an immutable snapshot (DESIGN.md §3). A worker swaps its pointer between events and keeps
// a replaced snapshot alive while exchanges that started on it are in flight, so a swap never
// changes a request in flight and requests need not copy what they use.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/model.h"
#include "net/load_report.h"
#include "net/service_health.h"
#include "net/traffic_stats.h"

namespace am::net {

struct route_endpoint {
  sockaddr_in address{};
  std::string key;  // "ip:port": names the connection pool and appears in logs
  config::label_set labels;
  uint32_t weight = 1;
  endpoint_id id = 0;     // the endpoint's identity in its service: see endpoint_registry
  uint64_t identity = 0;  // a hash of `key`: where consistent hashing places the endpoint
  uint8_t priority = 0;   // 0: the closest level the service prefers (lb/locality)
  bool tls = false;       // labelled `tls: mesh`: over mutual TLS (another cluster's ingress)
};

// The endpoints of a service whose labels include a set of labels (a version, a zone).
struct endpoint_subset {
  config::label_set labels;       // empty: every endpoint
  std::vector<uint32_t> members;  // indices into route_service::endpoints
  std::vector<uint32_t> weights;  // parallel to members
  size_t picker = 0;  // 0..picker_count-1: where a worker keeps this subset's picker for this
                      // snapshot (the picker itself outlives the snapshot while the subset stays)
};

inline constexpr size_t no_subset = std::numeric_limits<size_t>::max();

struct route_service {
  std::string name;
  size_t index = 0;  // 0..services.size()-1: where a worker finds, for this snapshot, the
                     // state it keeps by service name
  config::service policy;
  std::vector<route_endpoint> endpoints;
  std::vector<endpoint_subset> subsets;  // [0]: every endpoint
  // Per route of policy.routes: the subset of each target, and of the mirror (or no_subset).
  std::vector<std::vector<size_t>> target_subsets;
  std::vector<size_t> mirror_subsets;
  traffic_stats* stats = nullptr;
  // Where workers send attempt outcomes; null when the service has no breaker and no outlier
  // detection.
  std::shared_ptr<outcome_sink> sink;
  // Where workers report requests and retries; null when no route of the service retries.
  std::shared_ptr<usage_sink> usage;
};

struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct routing_snapshot {
  uint64_t version = 0;
  std::unordered_map<std::string, route_service, string_hash, std::equal_to<>> services;
  size_t picker_count = 0;  // subsets across all services
  // Where workers send the load of `lb: global` services once a second; null: nowhere.
  std::shared_ptr<load_sink> load;

  // Intercepted connections: the service at a destination address:port (one of its virtual
  // `addresses`, or an endpoint's address), by address_key; port 0 stands for every port.
  std::unordered_map<uint64_t, std::string> by_address;

  const route_service* find(std::string_view host) const {
    auto i = services.find(host);
    return i == services.end() ? nullptr : &i->second;
  }

  // The service an intercepted connection to `destination` reaches, or null (pass through).
  const route_service* service_at(const sockaddr_in& destination) const;
};

// `by_address`'s key: an IPv4 address and a port, in network order.
inline uint64_t address_key(uint32_t ip, uint16_t port) {
  return (static_cast<uint64_t>(ip) << 16) | port;
}

using routing_snapshot_ptr = std::shared_ptr<const routing_snapshot>;

// The identities of endpoints (DESIGN.md §3.6): one id per service and address:port for as
// long as the address stays in the service's endpoint set, never given to another address.
// Outcomes, ejections and picker state name endpoints by it, so they stay true across
// snapshots. Owned by the sidecar actor (one thread).
class endpoint_registry {
 public:
  endpoint_id id_of(const std::string& service, const std::string& key);
  // Forgets the addresses `current` does not name: one that comes back gets a new id. (The
  // names of services it has seen are kept, with their counters: a handful of bytes each.)
  void retain(const routing_snapshot& current);

 private:
  struct service_ids {
    std::unordered_map<std::string, endpoint_id> ids;
    endpoint_id next = 0;
  };
  std::unordered_map<std::string, service_ids> services_;
};

// The sinks of a service that needs them (each may return null).
struct sink_factory {
  std::function<std::shared_ptr<outcome_sink>(const route_service&)> outcomes;
  std::function<std::shared_ptr<usage_sink>(const route_service&)> usage;
  std::shared_ptr<load_sink> load;
};

// Whether any route of the service (or the service itself) retries.
bool retries(const config::service& policy);

// Joins the services' policies with the endpoints discovery knows. A service with endpoints
// but no policy gets the defaults; one with a policy but no endpoints is routed to nothing
// (503 no_endpoint) rather than passed through. Endpoint ids come from `ids`; endpoint
// priorities from where each runs (its cluster, region, zone and node labels) seen from
// `self`, the sidecar's locality.
routing_snapshot_ptr build_routing_snapshot(uint64_t version,
                                            const std::map<std::string, config::service>& services,
                                            const config::endpoint_table& endpoints,
                                            stats_registry& stats, endpoint_registry& ids,
                                            const config::location& self = {},
                                            const sink_factory& make_sinks = {});

}  // namespace am::net
