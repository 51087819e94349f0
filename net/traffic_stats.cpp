#include "net/traffic_stats.h"

namespace am::net {

const char* to_string(protection_event e) {
  switch (e) {
    case loop_detected:
      return "loop_detected";
    case listener_full:
      return "listener_full";
    case accept_paused:
      return "accept_paused";
    case h2_flood:
      return "h2_flood";
    case header_list_too_large:
      return "header_list_too_large";
    case h2_premature_resets:
      return "h2_premature_resets";
    case access_log_dropped:
      return "access_log_dropped";
    case tls_refused:
      return "tls_refused";
    case protection_event_count:
      break;
  }
  return "unknown";
}

const char* to_string(direction d) {
  return d == direction::inbound ? "inbound" : "outbound";
}

void traffic_stats::record(int status, uint64_t latency_us, uint64_t in, uint64_t out) {
  auto code = status >= 0 && status < 600 ? static_cast<size_t>(status) : size_t{0};
  requests_by_status[code].fetch_add(1, std::memory_order_relaxed);
  size_t bucket = 0;
  while (bucket < latency_bounds_us.size() && latency_us > latency_bounds_us[bucket]) {
    ++bucket;
  }
  latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  latency_sum_us.fetch_add(latency_us, std::memory_order_relaxed);
  bytes_in.fetch_add(in, std::memory_order_relaxed);
  bytes_out.fetch_add(out, std::memory_order_relaxed);
}

void traffic_stats::record_grpc(int code) {
  auto slot = code >= 0 && static_cast<size_t>(code) < grpc_by_status.size() - 1
                  ? static_cast<size_t>(code)
                  : grpc_by_status.size() - 1;
  grpc_by_status[slot].fetch_add(1, std::memory_order_relaxed);
}

traffic_stats* stats_registry::get(const std::string& service, direction d) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = stats_[{service, d}];
  if (!slot) {
    slot = std::make_unique<traffic_stats>(service, d);
  }
  return slot.get();
}

void stats_registry::for_each(
    const std::function<void(const std::string&, direction, const traffic_stats&)>& fn) const {
  std::lock_guard<std::mutex> guard{mutex_};
  for (const auto& [key, stats] : stats_) {
    fn(key.first, key.second, *stats);
  }
}

}  // namespace am::net
