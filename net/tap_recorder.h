// A worker's side of `meshctl tap`: the taps the sidecar installed, the events of matching
// requests (at most each tap's max_per_second per second) and what the limit left out, handed
// to the sidecar in batches. Loop thread only; while no tap is installed the request path
// checks `active()` and nothing else.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "config/tap.h"
#include "net/sink.h"

namespace am::net {

// The sidecar's taps, immutable once published; `id` is the sidecar's name for a tap.
struct tap_set {
  struct entry {
    uint32_t id = 0;
    config::tap_filter filter;
  };
  uint64_t generation = 0;  // the sidecar's count of changes
  std::vector<entry> taps;
};
using tap_set_ptr = std::shared_ptr<const tap_set>;

// A worker's batch: the generation it records with (the install's acknowledgement: a batch is
// sent as soon as a new set is installed, even empty), the events by tap id, and what the
// limit dropped by tap id.
struct tap_batch {
  struct tapped {
    uint32_t tap = 0;
    config::tap_event event;
  };
  uint64_t generation = 0;
  bool installed = false;  // the first batch since the worker installed this generation
  std::vector<tapped> events;
  std::vector<std::pair<uint32_t, uint64_t>> dropped;
};
using tap_sink = sink<tap_batch>;

// What the exchange knows of a finished request, viewed (nothing copied unless a tap takes it).
struct tap_view {
  std::string_view destination;
  std::string_view method;
  std::string_view authority;
  std::string_view path;
  int status = 0;
  int grpc_status = -1;
  uint64_t latency_us = 0;
  std::string_view endpoint;
  uint32_t attempts = 0;
  std::string_view error;
};

class tap_recorder {
 public:
  // Replaces the taps (null or empty: none); `out` receives the batches. Budgets start full.
  void install(tap_set_ptr taps, std::shared_ptr<tap_sink> out);
  bool active() const { return taps_ != nullptr; }
  // A finished request: an event for every tap that matches it and has budget left.
  // `unix_ms` tells the time (read only for a request a tap takes).
  using clock = int64_t (*)();
  void record(const tap_view& request, std::string_view source, clock unix_ms);
  // A new second: every tap's budget is full again.
  void refill();
  // Hands what was recorded to the sink, if anything was (or the install is unacknowledged).
  void flush();

 private:
  tap_set_ptr taps_;
  std::shared_ptr<tap_sink> out_;
  std::vector<uint32_t> budget_;   // per entry of taps_
  std::vector<uint64_t> dropped_;  // per entry of taps_
  tap_batch pending_;
  bool acknowledge_ = false;
};

}  // namespace am::net
