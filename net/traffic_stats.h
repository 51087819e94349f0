// Counters the data path records and the admin listener reads. Each worker records with
// relaxed atomic adds into objects that live as long as the process, so a request never
// allocates, locks or sends a message to be counted (DESIGN.md §3: the data path records).
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace am::net {

enum class direction { outbound, inbound };

const char* to_string(direction d);

// Latency bucket upper bounds, in microseconds (the last bucket is +Inf).
inline constexpr std::array<uint64_t, 14> latency_bounds_us = {
    250,   500,    1000,   2500,   5000,    10000,   25000,
    50000, 100000, 250000, 500000, 1000000, 2500000, 10000000};

struct traffic_stats {
  traffic_stats(std::string svc, direction d) : service(std::move(svc)), dir(d) {}

  const std::string service;
  const direction dir;
  std::array<std::atomic<uint64_t>, 600> requests_by_status{};  // index: status code
  std::array<std::atomic<uint64_t>, latency_bounds_us.size() + 1> latency_buckets{};
  std::atomic<uint64_t> latency_sum_us{0};
  std::atomic<int64_t> active{0};                // requests in flight upstream
  std::atomic<int64_t> upstream_connections{0};  // open, this service's and all workers'
  std::atomic<int64_t> pending{0};               // requests waiting for a new connection
  std::atomic<int64_t> retries_active{0};        // requests in flight that are retrying
  std::atomic<uint64_t> overloaded{0};           // requests refused by a concurrency limit
  // How the workers pick its endpoints: 0 its configured picker, 1 the global-lb's weights,
  // 2 local least request because they have none fresh (`lb: global`).
  std::atomic<int> lb_mode{0};
  std::atomic<uint64_t> bytes_in{0};
  std::atomic<uint64_t> bytes_out{0};
  // The service's breaker actor's last decision (outbound): 0 closed, 1 open, 2 half-open,
  // and how many endpoints it ejected. Written only by the actor whose id is health_writer, so
  // a breaker ended by a config change cannot overwrite (or, ending late, zero) what the
  // service's new breaker decided.
  std::atomic<int> breaker_mode{0};
  std::atomic<uint32_t> ejected{0};
  std::atomic<uint64_t> health_writer{0};
  // gRPC calls by their status (index: code; the last slot counts codes out of range).
  std::array<std::atomic<uint64_t>, 18> grpc_by_status{};

  void record(int status, uint64_t latency_us, uint64_t in, uint64_t out);
  void record_grpc(int code);
};

// Process-wide counters that belong to no service.
// What the sidecar's protections refused or cut, each counted once per event.
enum protection_event : size_t {
  loop_detected,          // a request that would come back to this sidecar (508)
  listener_full,          // a connection closed at accept: the listener's limit was reached
  accept_paused,          // accept() failed for want of descriptors or memory: paused a while
  h2_flood,               // an HTTP/2 connection ended with ENHANCE_YOUR_CALM
  header_list_too_large,  // an HTTP/2 request whose header list exceeded max_header_bytes
  h2_premature_resets,    // an HTTP/2 connection whose client reset most streams (rapid reset)
  access_log_dropped,     // an access-log line dropped: the writer's queue full, or a failed write
  tls_refused,            // a TLS handshake on the ingress failed (no or a foreign certificate)
  protection_event_count
};
const char* to_string(protection_event e);

struct proxy_stats {
  // Client connections open per listener side (outbound, inbound): the listener limit.
  std::atomic<int64_t> connections[2]{};
  std::array<std::atomic<uint64_t>, protection_event_count> protection{};
  std::atomic<uint64_t> upstream_connections_opened{0};
  std::atomic<uint64_t> upstream_connections_reused{0};
  std::atomic<int64_t> downstream_connections{0};
  // Routing snapshots the workers keep: each one's current one, and older ones exchanges hold.
  std::atomic<int64_t> routing_snapshots{0};
  // Intercepted connections by what their first bytes showed (net::sniffed_protocol minus
  // one: http1, http2, tls, opaque), and how many of them the detection timeout decided.
  std::array<std::atomic<uint64_t>, 4> intercepted{};
  std::atomic<uint64_t> detect_timeouts{0};
  // Spans the tracing collector took, and those dropped (queue full, collector slow or gone).
  std::atomic<uint64_t> spans_exported{0};
  std::atomic<uint64_t> spans_dropped{0};
  // `meshctl tap`: taps installed on this sidecar, events sent to them and matching requests
  // their rate limits left out.
  std::atomic<int64_t> taps_active{0};
  std::atomic<uint64_t> tap_events{0};
  std::atomic<uint64_t> tap_dropped{0};
};

// Owns every traffic_stats object; get() is for the control path (it locks), the returned
// pointer stays valid for the registry's lifetime and is what the data path uses.
class stats_registry {
 public:
  traffic_stats* get(const std::string& service, direction d);

  void for_each(
      const std::function<void(const std::string&, direction, const traffic_stats&)>& fn) const;

  proxy_stats& proxy() { return proxy_; }
  const proxy_stats& proxy() const { return proxy_; }

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, direction>, std::unique_ptr<traffic_stats>> stats_;
  proxy_stats proxy_;
};

}  // namespace am::net
