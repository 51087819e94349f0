#include "federation/exports.h"

#include <set>

namespace am::federation {

bool is_local(const config::endpoint& ep, const std::string& cluster) {
  auto i = ep.labels.find("cluster");
  return i == ep.labels.end() || i->second.empty() || i->second == cluster;
}

config::endpoint_table local_endpoints(const config::endpoint_table& merged,
                                       const std::string& cluster) {
  config::endpoint_table out;
  for (const auto& [service, endpoints] : merged) {
    auto& kept = out[service];
    for (const auto& ep : endpoints) {
      if (is_local(ep, cluster)) {
        kept.push_back(ep);
      }
    }
  }
  return out;
}

config::export_list exports_of(const config::endpoint_table& local,
                               const std::map<std::string, config::service>& services,
                               const config::listener& ingress, bool ingress_tls) {
  config::export_list out;
  for (const auto& [name, policy] : services) {
    if (!policy.exported) {
      continue;
    }
    config::exported_service e{name, ingress.address, ingress.port, 0, {}, ingress_tls};
    std::set<std::string> zones;
    if (auto i = local.find(name); i != local.end()) {
      e.endpoints = static_cast<uint32_t>(i->second.size());
      for (const auto& ep : i->second) {
        if (auto z = ep.labels.find("zone"); z != ep.labels.end()) {
          zones.insert(z->second);
        }
      }
    }
    e.zones.assign(zones.begin(), zones.end());
    out.push_back(std::move(e));
  }
  return out;
}

config::endpoint_table imports_of(const config::federation_peer& peer,
                                  const config::export_list& exports) {
  config::endpoint_table out;
  for (const auto& e : exports) {
    if (e.endpoints == 0 || e.port == 0) {
      continue;  // nothing serves it there: no endpoint that could only fail
    }
    config::endpoint ep{e.address,
                        e.port,
                        peer.weight,
                        {{"cluster", peer.name}, {"cluster_rank", std::to_string(peer.priority)}}};
    if (e.tls) {
      ep.labels[config::tls_label] = config::mesh_tls;
    }
    out[e.name].push_back(std::move(ep));
  }
  return out;
}

}  // namespace am::federation
