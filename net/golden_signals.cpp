#include "net/golden_signals.h"

#include <utility>

namespace am::net {

size_t signals_sampler::response_class(size_t status) {
  if (status >= 100 && status < 300) {
    return 0;
  }
  if (status >= 300 && status < 500) {
    return status / 100 - 2;
  }
  return config::failure_class;
}

config::signals_report signals_sampler::sample(const stats_registry& stats,
                                               const std::string& sidecar,
                                               const std::string& source) {
  config::signals_report report;
  report.sidecar = sidecar;
  stats.for_each([&](const std::string& service, direction d, const traffic_stats& s) {
    if (d != direction::outbound) {
      return;
    }
    totals now;
    for (size_t status = 0; status < s.requests_by_status.size(); ++status) {
      now.by_class[response_class(status)] +=
          s.requests_by_status[status].load(std::memory_order_relaxed);
    }
    for (size_t b = 0; b < now.latency.size(); ++b) {
      now.latency[b] = s.latency_buckets[b].load(std::memory_order_relaxed);
    }
    auto& last = last_[service];
    config::pair_signals p{source, service, {}, {}};
    bool any = false;
    for (size_t c = 0; c < now.by_class.size(); ++c) {
      p.by_class.push_back(now.by_class[c] - last.by_class[c]);
      any = any || p.by_class.back() > 0;
    }
    if (any) {
      for (size_t b = 0; b < now.latency.size(); ++b) {
        p.latency.push_back(now.latency[b] - last.latency[b]);
      }
      report.pairs.push_back(std::move(p));
    }
    last = now;
    auto breaker = s.breaker_mode.load(std::memory_order_relaxed);
    auto ejected = s.ejected.load(std::memory_order_relaxed);
    if (breaker != 0 || ejected != 0) {
      report.health.push_back({service, breaker, ejected});
    }
  });
  return report;
}

bool signals_sampler::worth_sending(const config::signals_report& report) {
  bool was_unhealthy = std::exchange(unhealthy_, !report.health.empty());
  return !report.pairs.empty() || !report.health.empty() || was_unhealthy;
}

}  // namespace am::net
