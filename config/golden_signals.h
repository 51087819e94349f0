// What a sidecar tells the control plane each second about the calls it made: per (source
// service, destination service), the requests by response class and their latencies in the
// proxy's fixed buckets (mergeable by adding). Plain structs: net/ samples them from the
// counters the data path keeps anyway, lb/signal_windows merges them over windows,
// actors/messages.h lets them cross the middleman.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace am::config {

// by_class indexes: 1xx and 2xx, 3xx, 4xx, 5xx (failures: 5xx, which connection failures,
// timeouts and refusals by the mesh also answer).
inline constexpr size_t response_classes = 4;
inline constexpr size_t failure_class = 3;

struct pair_signals {
  std::string source;              // the calling service (the sidecar's service_name)
  std::string destination;         // the called service
  std::vector<uint64_t> by_class;  // response_classes counts since the last report
  std::vector<uint64_t> latency;   // counts per latency bucket (net::latency_bounds_us, +Inf)
};

// A called service whose breaker is not closed or that has endpoints ejected, as one
// sidecar's breaker actor decided (breaker: 0 closed, 1 open, 2 half-open).
struct service_health_signal {
  std::string service;
  int32_t breaker = 0;
  uint32_t ejected = 0;
  bool operator==(const service_health_signal&) const = default;
};

struct signals_report {
  std::string sidecar;              // the node's name
  std::vector<pair_signals> pairs;  // only pairs with calls since the last report
  // Every called service whose breaker is not closed or that has ejections, in every report
  // while it lasts (and one report, maybe empty, once it is over).
  std::vector<service_health_signal> health;
};

// The latest health each sidecar reported (sidecars reporting lately only).
using health_by_sidecar = std::map<std::string, std::vector<service_health_signal>>;

}  // namespace am::config
