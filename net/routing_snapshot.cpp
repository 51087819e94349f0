#include "net/routing_snapshot.h"

#include "net/socket.h"

namespace am::net {

routing_snapshot_ptr build_routing_snapshot(uint64_t version,
                                            const std::map<std::string, config::service>& services,
                                            const config::endpoint_table& endpoints,
                                            stats_registry& stats) {
  auto snapshot = std::make_shared<routing_snapshot>();
  snapshot->version = version;
  auto add = [&](const std::string& name) -> route_service& {
    auto [it, fresh] = snapshot->services.try_emplace(name);
    auto& svc = it->second;
    if (fresh) {
      svc.name = name;
      svc.index = snapshot->services.size() - 1;
      svc.stats = stats.get(name, direction::outbound);
    }
    return svc;
  };
  for (const auto& [name, policy] : services) {
    add(name).timeout_ms = policy.timeout.count();
  }
  for (const auto& [name, eps] : endpoints) {
    auto& svc = add(name);
    for (const auto& ep : eps) {
      route_endpoint re;
      if (!make_address(ep.address, ep.port, re.address)) {
        continue;  // validated by config; a bad address here is skipped, never routed to
      }
      re.key = to_string(re.address);
      svc.endpoints.push_back(std::move(re));
      svc.weights.push_back(ep.weight);
    }
  }
  return snapshot;
}

}  // namespace am::net
