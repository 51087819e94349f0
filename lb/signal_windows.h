// The control plane's view of the mesh's golden signals: sidecars' per-second reports
// merged per (source, destination) over sliding windows of 10 s, 1 min and 10 min. Memory
// grows with the number of service pairs, not with requests: each pair keeps three rings
// of time-aligned slots (10 × 1 s, 6 × 10 s, 10 × 1 min), and a pair silent for longer than
// the longest window is forgotten. Plain logic, time passed in.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "config/golden_signals.h"

namespace am::lb {

enum class signal_window { ten_seconds, one_minute, ten_minutes };

// "10s", "1m", "10m" (false for anything else).
bool parse_signal_window(const std::string& text, signal_window& out);
const char* to_string(signal_window w);

struct signal_row {
  std::string source;  // empty when summed over sources
  std::string destination;
  uint64_t requests = 0;
  uint64_t failures = 0;  // 5xx
  std::array<uint64_t, config::response_classes> by_class{};
  double requests_per_second = 0;  // over the window, or the part of it the pair existed
  uint64_t p50_us = 0, p95_us = 0, p99_us = 0;  // 0 without requests
  uint32_t sidecars = 0;                        // that reported the pair within the window

  double success_rate() const {
    return requests == 0 ? 0.0 : 1.0 - static_cast<double>(failures) / requests;
  }
};

struct signal_query {
  signal_window window = signal_window::one_minute;
  std::string from;     // source service; empty: any
  std::string to;       // destination service; empty: any
  bool by_pair = true;  // false: one row per destination, summed over its sources
};

class signal_windows {
 public:
  // `latency_bounds_us`: the upper bounds of the report's latency buckets but the last (+Inf);
  // at most max_latency_buckets - 1 of them.
  explicit signal_windows(std::vector<uint64_t> latency_bounds_us);

  // A sidecar's report, arrived at now_ms (it covers the report interval before).
  void add(const config::signals_report& report, int64_t now_ms);

  std::vector<signal_row> query(const signal_query& q, int64_t now_ms) const;

  // Forgets pairs (and sidecars of a pair) not heard from within the longest window.
  void expire(int64_t now_ms);

  size_t pairs() const { return pairs_.size(); }

  // Percentile q (0..1) of the counts per bucket, interpolated linearly inside its bucket
  // (as Prometheus' histogram_quantile); the last bucket answers its lower bound.
  static uint64_t percentile(const std::vector<uint64_t>& counts,
                             const std::vector<uint64_t>& bounds_us, double q);

  static constexpr int64_t report_interval_ms = 1000;

 private:
  // Fixed-size counts: a pair's 26 slots are one allocation (about 2.3 KB), which is what
  // keeps 10,000 pairs near 25 MB.
  static constexpr size_t max_latency_buckets = 16;
  struct slot {
    int64_t index = -1;  // time / the tier's granularity; -1: empty
    std::array<uint32_t, config::response_classes> by_class{};
    std::array<uint32_t, max_latency_buckets> latency{};
  };
  struct pair_state {
    int64_t first_ms = 0;     // when its first report's interval began
    std::vector<slot> slots;  // the tiers' rings one after the other (see tiers in .cpp)
    std::unordered_map<std::string, int64_t> sidecars;  // name → last report
  };

  pair_state make_pair_state(int64_t now_ms) const;

  std::vector<uint64_t> bounds_us_;
  std::map<std::pair<std::string, std::string>, pair_state> pairs_;  // (source, destination)
};

}  // namespace am::lb
