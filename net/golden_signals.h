// The sidecar's golden signals for the control plane (config/golden_signals.h): once a
// second, what its outbound counters gained since the last sample, per destination service.
// Read from the counters the data path keeps for /metrics anyway, so reporting costs the
// request path nothing.
#pragma once

#include <array>
#include <map>
#include <string>

#include "config/golden_signals.h"
#include "net/traffic_stats.h"

namespace am::net {

class signals_sampler {
 public:
  // The calls made since the last sample, as `source` (this sidecar's service) to each
  // destination; pairs without calls are left out. With them, the destinations whose breaker
  // is not closed or that have ejected endpoints.
  config::signals_report sample(const stats_registry& stats, const std::string& sidecar,
                                const std::string& source);

  // The response class (config::pair_signals::by_class index) of an HTTP status; no status
  // (a connection failure recorded as 0) counts as a failure.
  static size_t response_class(size_t status);

  // Whether `report` says anything: calls, health, or that health is back to normal.
  bool worth_sending(const config::signals_report& report);

 private:
  struct totals {
    std::array<uint64_t, config::response_classes> by_class{};
    std::array<uint64_t, latency_bounds_us.size() + 1> latency{};
  };
  std::map<std::string, totals> last_;  // destination → its counters at the last sample
  bool unhealthy_ = false;              // the last report named services' health
};

}  // namespace am::net
