// One data-plane worker: an event-loop thread with its own listening sockets (shared with the
// other workers through SO_REUSEPORT), connection pools, pickers and routing snapshot. The
// worker actor owns it; the loop never waits on the actor system, and the actor reaches the
// loop only through post() (DESIGN.md §3, §4).
#pragma once

#include <netinet/in.h>

#include <array>
#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "config/model.h"
#include "net/access_log.h"
#include "net/downstream.h"
#include "net/downstream_connection.h"
#include "net/event_loop.h"
#include "net/protocol_sniffer.h"
#include "net/resolver.h"
#include "net/routing_snapshot.h"
#include "net/service_state.h"
#include "net/span_exporter.h"
#include "net/tap_recorder.h"
#include "net/traffic_stats.h"
#include "net/tunnel.h"
#include "net/upstream_pool.h"

namespace am::net {

class listening_socket;
class mirror_exchange;

class proxy_worker final : public tunnel_watcher {
 public:
  // `index` names this worker in usage reports; `instance` names the sidecar (all its
  // workers) in the hop markers that detect forwarding loops.
  // `spans` (may be null) exports each sampled request's span.
  proxy_worker(config::sidecar_settings settings, stats_registry& stats, access_log_writer* log,
               uint32_t index = 0, std::string_view instance = "0", span_exporter* spans = nullptr);
  ~proxy_worker();
  proxy_worker(const proxy_worker&) = delete;
  proxy_worker& operator=(const proxy_worker&) = delete;

  // -- control (any thread) ----------------------------------------------------------------------

  // Opens the listeners; call before start(). False with `error` when a port can't be bound.
  bool open_listeners(std::string& error);
  void start();

  // Routes new requests with `snapshot` from the loop's next iteration on.
  void publish(routing_snapshot_ptr snapshot);
  // The version of the snapshot new requests are routed with (0 before the first): what a
  // published snapshot's version is compared with to know it is in force.
  uint64_t installed_version() const { return installed_version_.load(std::memory_order_acquire); }

  // Stops accepting, closes idle connections, lets open exchanges finish; `done` runs on the
  // loop thread when no client connection is left.
  void drain(std::function<void()> done);

  // Stops the loop and joins its thread.
  void stop();

  // -- for connections (loop thread) ------------------------------------------------------------

  event_loop& loop() { return loop_; }
  const config::sidecar_settings& settings() const { return settings_; }
  const routing_snapshot& routes() const { return *current_->snapshot; }

  // Keeps the current snapshot alive until release_snapshot(): an exchange holds it from its
  // routing decision to its end, so the pointers it took into the snapshot stay valid. A
  // snapshot is freed when its last holder releases it, whatever its age.
  snapshot_slot* hold_snapshot();
  void release_snapshot(snapshot_slot* slot);

  // This worker's state of `svc`, a service of `slot`'s snapshot.
  service_state& state_of(const snapshot_slot& slot, const route_service& svc) const {
    return *slot.services[svc.index];
  }

  // An endpoint of `subset` (of `svc` in `slot`'s snapshot), or nothing when it is empty.
  // Ejected endpoints, and those on probation whose probe this worker has sent, are never
  // picked while another is eligible; picking one on probation sends its probe. `hash`
  // (when given) picks consistently: the same key, the same endpoint.
  // `probe`: false for a mirror, whose outcome nobody sees. `tried`: see subset_picker::pick.
  std::optional<endpoint_pick> pick(const snapshot_slot& slot, const route_service& svc,
                                    const endpoint_subset& subset, const uint64_t* hash,
                                    bool probe = true,
                                    std::span<const endpoint_state* const> tried = {});

  // Spends one of the retry tokens the service's retry actor leased to this worker; false
  // when none is left. Requests and retries are reported to the actor every tick.
  bool spend_retry(service_state& svc);
  void count_request(service_state& svc) {
    if (svc.usage) {  // only a retry actor reads the count
      ++svc.requests;
      flush_soon();
    }
  }
  // A new lease from the service's retry actor (any thread).
  void publish_lease(std::string service, uint64_t tokens);

  // Applies a service's health (breaker state, ejected endpoints) to new requests.
  void publish_health(std::string service, service_health_ptr health);  // any thread

  // Whether the service's breaker lets a new request through (closed, or a half-open probe
  // this worker may still send).
  bool admit(service_state& svc);
  // Buffers an attempt's outcome for the service's sink (flushed every tick), and for an
  // `lb: global` service counts it in the endpoint's load report.
  void record_attempt(service_state& svc, endpoint_state& endpoint, int status,
                      uint64_t latency_us);

  // The global-lb's weights for new picks of the services they name (any thread).
  void publish_weights(weight_table_ptr table);
  // Hands the sidecar's load sink this worker's report of its `lb: global` services, empty
  // when it has none (any thread; the sidecar asks every worker once a second).
  void request_load_report();

  // The sidecar's taps for requests finished from the loop's next iteration on (null: none);
  // batches of what they saw go to `out` (any thread).
  void publish_taps(tap_set_ptr taps, std::shared_ptr<tap_sink> out);
  // Whether a tap is installed: all a finished request checks while none is.
  bool tapping() const { return taps_.active(); }
  void tap(const tap_view& request);

  // Sends a fire-and-forget copy of a request (a complete head, no body) to `address`.
  void mirror(const sockaddr_in& address, const std::string& key, std::string_view head);
  void end_mirror(mirror_exchange* m);

  // The data path calls this where it buffers something the flush tick sends on (outcomes,
  // retry usage, access-log lines, spans, tap events): the tick runs only while there is,
  // so an idle worker sleeps instead of waking every 10 ms.
  void flush_soon() {
    if (!flush_timer_.armed()) {
      loop_.schedule(flush_timer_, flush_tick_ms);
    }
  }
  static constexpr int64_t flush_tick_ms = 10;  // the breaker learns within ~10 ms

  // Uniform random bits for sampling (splits without a sticky key, fault percentages).
  uint64_t random() { return rng_(); }
  upstream_pool& pool() { return pool_; }
  resolver& dns() { return resolver_; }
  access_log_buffer& access_log() { return log_buffer_; }
  span_buffer& spans() { return span_buffer_; }
  traffic_stats* inbound_stats() const { return inbound_stats_; }
  traffic_stats* passthrough_stats() const { return passthrough_stats_; }
  traffic_stats* unrouted_stats(listener_side side) const {
    return side == listener_side::inbound ? inbound_stats_ : unrouted_stats_;
  }
  const sockaddr_in& app_address() const { return app_address_; }
  const std::string& app_key() const { return app_key_; }
  bool draining() const { return draining_; }
  void make_request_id(std::string& out);
  // This sidecar's token in x-actormesh-hops for requests arriving on `side`.
  const std::string& hop_token(listener_side side) const {
    return hop_tokens_[side == listener_side::inbound ? 1 : 0];
  }
  // Whether `address` is one of this sidecar's own listeners (outbound, inbound, admin);
  // `allow_inbound`: the inbound listener does not count (a service calling itself through
  // the mesh reaches its own inbound side, which is no loop).
  bool is_own_listener(const sockaddr_in& address, bool allow_inbound) const;
  // Counts a protection's event (metrics) and logs it, at most once every few seconds.
  void count(protection_event e, std::string_view detail);

  void on_downstream_opened(downstream* c, listener_side side);
  void on_downstream_closed(downstream* c);
  // tunnel_watcher (loop thread)
  void on_tunnel_opened() override;
  void on_tunnel_closed() override;
  // `transparent`: from the transparent listener (iptables redirected the connection).
  void on_accept(int fd, listener_side side, bool transparent);
  // Counts what an intercepted connection's first bytes showed; `timed_out`: the detection
  // time ran out first.
  void count_detected(sniffed_protocol protocol, bool timed_out);

 private:
  void install(routing_snapshot_ptr snapshot);
  bool intercept(int fd, listener_side side, sockaddr_in& destination);
  void pass_through6(int fd);
  service_state& state_named(const std::string& name);
  subset_picker_ptr picker_for(const route_service& svc, const endpoint_subset& subset,
                               service_state& state) const;
  void flush_outcomes(service_state& svc);
  void flush_outcomes();
  void report_load();
  void expire_weights();
  bool any_weights_fresh() const;
  void report_usage();
  void check_drained();
  static void on_flush_timer(void* self);

  config::sidecar_settings settings_;
  stats_registry& stats_;
  event_loop loop_;
  // Mesh TLS with the sidecar's certificate (settings_.tls): the ingress's server side, and
  // the client side of connections to endpoints labelled `tls: mesh`. Null without one.
  std::unique_ptr<tls_context> ingress_tls_;
  std::unique_ptr<tls_context> client_tls_;
  upstream_pool pool_;
  resolver resolver_;
  access_log_buffer log_buffer_;
  span_buffer span_buffer_;
  tap_recorder taps_;
  timer flush_timer_;
  std::list<snapshot_slot> slots_;              // the current one and those exchanges still hold
  snapshot_slot* current_ = nullptr;            // routes new requests
  std::atomic<uint64_t> installed_version_{0};  // current_'s, for other threads
  // The state of every service of the current snapshot (and of those a health or a lease
  // named before a snapshot did), by name.
  std::unordered_map<std::string, service_state_ptr, string_hash, std::equal_to<>> services_;
  std::vector<std::unique_ptr<listening_socket>> listeners_;
  std::unordered_map<downstream*, listener_side> downstreams_;
  size_t tunnels_ = 0;  // open CONNECT and Upgrade tunnels: a drain waits for them too
  std::unordered_map<mirror_exchange*, std::unique_ptr<mirror_exchange>> mirrors_;
  traffic_stats* inbound_stats_;
  traffic_stats* passthrough_stats_;
  traffic_stats* unrouted_stats_;
  sockaddr_in app_address_{};
  std::string app_key_;
  std::string hop_tokens_[2];               // outbound, inbound
  std::vector<sockaddr_in> own_listeners_;  // every local address:port a listener answers on
  std::array<int64_t, protection_event_count> last_logged_ms_;
  std::mt19937_64 rng_;
  bool draining_ = false;
  uint32_t index_;
  // When the flush tick last did what it does less often than every tick (loop time).
  int64_t logs_flushed_ms_ = 0;
  int64_t weights_checked_ms_ = 0;
  int64_t taps_flushed_ms_ = 0;
  int64_t taps_refilled_ms_ = 0;
  std::function<void()> on_drained_;
  std::thread thread_;
};

}  // namespace am::net
