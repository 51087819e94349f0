#include "lb/locality.h"

#include <algorithm>

namespace am::lb {

namespace {

bool same(const std::string& a, const std::string& b) {
  return !a.empty() && a == b;
}

const std::string& field(const config::location& l, config::locality_level level) {
  switch (level) {
    case config::locality_level::node:
      return l.node;
    case config::locality_level::region:
      return l.region;
    case config::locality_level::zone:
      break;
  }
  return l.zone;
}

}  // namespace

uint8_t priority_of(const config::location& self, const config::location& endpoint,
                    const config::locality_spec& spec) {
  bool other_cluster = !endpoint.cluster.empty() && endpoint.cluster != self.cluster;
  if (self.empty()) {
    return other_cluster ? static_cast<uint8_t>(1 + std::min(endpoint.cluster_rank, 200u)) : 0;
  }
  uint8_t p = 0;
  for (auto level : spec.prefer) {
    if (same(field(self, level), field(endpoint, level))) {
      return p;
    }
    ++p;
    if (level != config::locality_level::zone) {
      continue;
    }
    for (const auto& rule : spec.failover) {
      if (!same(rule.from, self.zone)) {
        continue;
      }
      for (const auto& zone : rule.to) {
        if (same(zone, endpoint.zone)) {
          return p;
        }
        ++p;
      }
    }
  }
  return other_cluster ? static_cast<uint8_t>(p + 1 + std::min(endpoint.cluster_rank, 200u)) : p;
}

std::vector<double> priority_shares(const std::vector<uint64_t>& healthy_weight,
                                    const std::vector<uint64_t>& total_weight,
                                    double overprovisioning) {
  auto n = total_weight.size();
  std::vector<double> health(n, 0.0);
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    if (total_weight[i] > 0) {
      health[i] = std::min(1.0, overprovisioning * static_cast<double>(healthy_weight[i]) /
                                    static_cast<double>(total_weight[i]));
    }
    sum += health[i];
  }
  std::vector<double> shares(n, 0.0);
  if (n == 0) {
    return shares;
  }
  if (sum <= 0) {
    shares[0] = 1.0;  // nothing healthy anywhere: the closest takes it all
    return shares;
  }
  auto scale = sum < 1.0 ? 1.0 / sum : 1.0;
  double left = 1.0;
  for (size_t i = 0; i < n && left > 0; ++i) {
    shares[i] = std::min(left, health[i] * scale);
    left -= shares[i];
  }
  return shares;
}

}  // namespace am::lb
