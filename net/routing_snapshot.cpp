#include "net/routing_snapshot.h"

#include <algorithm>
#include <charconv>
#include <string_view>
#include <unordered_set>

#include "lb/locality.h"
#include "net/socket.h"
#include "policy/route_match.h"

namespace am::net {

namespace {

bool has_labels(const config::label_set& have, const config::label_set& want) {
  return std::all_of(want.begin(), want.end(), [&](const auto& kv) {
    auto i = have.find(kv.first);
    return i != have.end() && i->second == kv.second;
  });
}

// The index of the subset with `labels`, made on first use.
size_t subset_of(route_service& svc, const config::label_set& labels, size_t& pickers) {
  for (size_t i = 0; i < svc.subsets.size(); ++i) {
    if (svc.subsets[i].labels == labels) {
      return i;
    }
  }
  endpoint_subset s;
  s.labels = labels;
  s.picker = pickers++;
  for (size_t e = 0; e < svc.endpoints.size(); ++e) {
    if (has_labels(svc.endpoints[e].labels, labels)) {
      s.members.push_back(static_cast<uint32_t>(e));
      s.weights.push_back(svc.endpoints[e].weight);
    }
  }
  svc.subsets.push_back(std::move(s));
  return svc.subsets.size() - 1;
}

// Where an endpoint runs, from its labels.
config::location location_of(const config::label_set& labels) {
  config::location l;
  auto take = [&](const char* key, std::string& out) {
    if (auto i = labels.find(key); i != labels.end()) {
      out = i->second;
    }
  };
  take("cluster", l.cluster);
  take("region", l.region);
  take("zone", l.zone);
  take("node", l.node);
  if (auto i = labels.find("cluster_rank"); i != labels.end()) {
    std::from_chars(i->second.data(), i->second.data() + i->second.size(), l.cluster_rank);
  }
  return l;
}

}  // namespace

endpoint_id endpoint_registry::id_of(const std::string& service, const std::string& key) {
  auto& s = services_[service];
  auto [it, fresh] = s.ids.try_emplace(key, s.next);
  if (fresh) {
    ++s.next;
  }
  return it->second;
}

void endpoint_registry::retain(const routing_snapshot& current) {
  // A service that goes keeps its counter: ids are never given again, even if it comes back.
  for (auto& [name, s] : services_) {
    const auto* svc = current.find(name);
    if (svc == nullptr) {
      s.ids.clear();
      continue;
    }
    std::unordered_set<std::string_view> keys;
    for (const auto& e : svc->endpoints) {
      keys.insert(e.key);
    }
    std::erase_if(s.ids, [&](const auto& kv) { return keys.count(kv.first) == 0; });
  }
}

const route_service* routing_snapshot::service_at(const sockaddr_in& destination) const {
  if (by_address.empty()) {
    return nullptr;
  }
  auto ip = destination.sin_addr.s_addr;
  auto i = by_address.find(address_key(ip, destination.sin_port));
  if (i == by_address.end()) {
    i = by_address.find(address_key(ip, 0));
  }
  return i == by_address.end() ? nullptr : find(i->second);
}

namespace {

// Virtual IPs first (a service claims its own), then endpoint addresses; where two services
// claim one address, the first by name keeps it.
void map_addresses(routing_snapshot& snapshot) {
  std::vector<const route_service*> sorted;
  for (const auto& [name, svc] : snapshot.services) {
    sorted.push_back(&svc);
  }
  std::sort(sorted.begin(), sorted.end(), [](auto* a, auto* b) { return a->name < b->name; });
  for (const auto* svc : sorted) {
    for (const auto& ip : svc->policy.addresses) {
      sockaddr_in a{};
      if (!make_address(ip, 0, a)) {
        continue;
      }
      if (svc->policy.ports.empty()) {
        snapshot.by_address.try_emplace(address_key(a.sin_addr.s_addr, 0), svc->name);
      }
      for (auto port : svc->policy.ports) {
        snapshot.by_address.try_emplace(address_key(a.sin_addr.s_addr, htons(port)), svc->name);
      }
    }
  }
  for (const auto* svc : sorted) {
    for (const auto& e : svc->endpoints) {
      snapshot.by_address.try_emplace(address_key(e.address.sin_addr.s_addr, e.address.sin_port),
                                      svc->name);
    }
  }
}

}  // namespace

bool retries(const config::service& policy) {
  return policy.retry.attempts > 1 ||
         std::any_of(policy.routes.begin(), policy.routes.end(),
                     [](const config::route_spec& r) { return r.retry && r.retry->attempts > 1; });
}

routing_snapshot_ptr build_routing_snapshot(uint64_t version,
                                            const std::map<std::string, config::service>& services,
                                            const config::endpoint_table& endpoints,
                                            stats_registry& stats, endpoint_registry& ids,
                                            const config::location& self,
                                            const sink_factory& make_sinks) {
  auto snapshot = std::make_shared<routing_snapshot>();
  snapshot->version = version;
  auto add = [&](const std::string& name) -> route_service& {
    auto [it, fresh] = snapshot->services.try_emplace(name);
    if (fresh) {
      it->second.name = name;
      it->second.index = snapshot->services.size() - 1;
      it->second.policy.name = name;
      it->second.stats = stats.get(name, direction::outbound);
    }
    return it->second;
  };
  for (const auto& [name, policy] : services) {
    add(name).policy = policy;
  }
  for (const auto& [name, eps] : endpoints) {
    auto& svc = add(name);
    for (const auto& ep : eps) {
      route_endpoint re;
      if (!make_address(ep.address, ep.port, re.address)) {
        continue;  // validated by config; a bad address here is skipped, never routed to
      }
      re.key = to_string(re.address);
      re.labels = ep.labels;
      re.tls = config::wants_mesh_tls(ep);
      re.weight = ep.weight;
      re.id = ids.id_of(name, re.key);
      re.identity = policy::stable_hash(re.key);
      re.priority = lb::priority_of(self, location_of(ep.labels), svc.policy.locality);
      svc.endpoints.push_back(std::move(re));
    }
  }
  size_t pickers = 0;
  for (auto& [name, svc] : snapshot->services) {
    subset_of(svc, {}, pickers);
    for (const auto& route : svc.policy.routes) {
      std::vector<size_t> targets;
      for (const auto& t : route.targets) {
        targets.push_back(subset_of(svc, t.subset, pickers));
      }
      svc.target_subsets.push_back(std::move(targets));
      svc.mirror_subsets.push_back(
          route.mirror.percent > 0 ? subset_of(svc, route.mirror.subset, pickers) : no_subset);
    }
    if (make_sinks.outcomes && (svc.policy.breaker || svc.policy.outlier)) {
      svc.sink = make_sinks.outcomes(svc);
    }
    if (make_sinks.usage && retries(svc.policy)) {
      svc.usage = make_sinks.usage(svc);
    }
  }
  snapshot->picker_count = pickers;
  snapshot->load = make_sinks.load;
  map_addresses(*snapshot);
  ids.retain(*snapshot);
  return snapshot;
}

}  // namespace am::net
