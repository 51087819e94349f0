// What a worker needs to route a request, built on the control path and handed to workers as
// an immutable snapshot (DESIGN.md §3). A worker swaps its pointer between events; requests
// copy the few values they need when they start, so a swap never changes a request in flight.
#pragma once

#include <netinet/in.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "net/traffic_stats.h"

namespace am::net {

struct route_endpoint {
  sockaddr_in address{};
  std::string key;  // "ip:port": names the connection pool and appears in logs
};

struct route_service {
  std::string name;
  size_t index = 0;  // 0..services.size()-1: where workers keep this service's picker
  int64_t timeout_ms = 15000;
  std::vector<route_endpoint> endpoints;
  std::vector<uint32_t> weights;  // parallel to endpoints
  traffic_stats* stats = nullptr;
};

struct string_hash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct routing_snapshot {
  uint64_t version = 0;
  std::unordered_map<std::string, route_service, string_hash, std::equal_to<>> services;

  const route_service* find(std::string_view host) const {
    auto i = services.find(host);
    return i == services.end() ? nullptr : &i->second;
  }
};

using routing_snapshot_ptr = std::shared_ptr<const routing_snapshot>;

}  // namespace am::net

#include "config/model.h"

namespace am::net {

// Joins the services' policies with the endpoints discovery knows. A service with endpoints
// but no policy gets the defaults; one with a policy but no endpoints is routed to nothing
// (503 no_endpoint) rather than passed through.
routing_snapshot_ptr build_routing_snapshot(uint64_t version,
                                            const std::map<std::string, config::service>& services,
                                            const config::endpoint_table& endpoints,
                                            stats_registry& stats);

}  // namespace am::net
