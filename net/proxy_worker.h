// One data-plane worker: an event-loop thread with its own listening sockets (shared with the
// other workers through SO_REUSEPORT), connection pools, pickers and routing snapshot. The
// worker actor owns it; the loop never waits on the actor system, and the actor reaches the
// loop only through post() (DESIGN.md §3, §4).
#pragma once

#include <netinet/in.h>

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "config/model.h"
#include "lb/round_robin_picker.h"
#include "net/access_log.h"
#include "net/downstream_connection.h"
#include "net/event_loop.h"
#include "net/resolver.h"
#include "net/routing_snapshot.h"
#include "net/traffic_stats.h"
#include "net/upstream_pool.h"

namespace am::net {

class listener_socket;

class proxy_worker {
 public:
  proxy_worker(config::sidecar_settings settings, stats_registry& stats, access_log_writer* log);
  ~proxy_worker();
  proxy_worker(const proxy_worker&) = delete;
  proxy_worker& operator=(const proxy_worker&) = delete;

  // -- control (any thread) ----------------------------------------------------------------------

  // Opens the listeners; call before start(). False with `error` when a port can't be bound.
  bool open_listeners(std::string& error);
  void start();

  // Routes new requests with `snapshot` from the loop's next iteration on.
  void publish(routing_snapshot_ptr snapshot);

  // Stops accepting, closes idle connections, lets open exchanges finish; `done` runs on the
  // loop thread when no client connection is left.
  void drain(std::function<void()> done);

  // Stops the loop and joins its thread.
  void stop();

  // -- for connections (loop thread) ------------------------------------------------------------

  event_loop& loop() { return loop_; }
  const config::sidecar_settings& settings() const { return settings_; }
  const routing_snapshot& routes() const { return *routes_; }
  std::optional<size_t> pick(const route_service& svc);
  upstream_pool& pool() { return pool_; }
  resolver& dns() { return resolver_; }
  access_log_buffer& access_log() { return log_buffer_; }
  traffic_stats* inbound_stats() const { return inbound_stats_; }
  traffic_stats* passthrough_stats() const { return passthrough_stats_; }
  traffic_stats* unrouted_stats(listener_side side) const {
    return side == listener_side::inbound ? inbound_stats_ : unrouted_stats_;
  }
  const sockaddr_in& app_address() const { return app_address_; }
  const std::string& app_key() const { return app_key_; }
  bool draining() const { return draining_; }
  void make_request_id(std::string& out);

  void on_downstream_opened(downstream_connection* c);
  void on_downstream_closed(downstream_connection* c);
  void on_accept(int listen_fd, listener_side side);

 private:
  void install(routing_snapshot_ptr snapshot);
  void check_drained();
  static void on_flush_timer(void* self);

  config::sidecar_settings settings_;
  stats_registry& stats_;
  event_loop loop_;
  upstream_pool pool_;
  resolver resolver_;
  access_log_buffer log_buffer_;
  timer flush_timer_;
  routing_snapshot_ptr routes_;
  std::vector<lb::round_robin_picker> pickers_;  // indexed by route_service::index
  std::vector<std::unique_ptr<listener_socket>> listeners_;
  std::unordered_set<downstream_connection*> downstreams_;
  traffic_stats* inbound_stats_;
  traffic_stats* passthrough_stats_;
  traffic_stats* unrouted_stats_;
  sockaddr_in app_address_{};
  std::string app_key_;
  std::mt19937_64 rng_;
  bool draining_ = false;
  std::function<void()> on_drained_;
  std::thread thread_;
};

}  // namespace am::net
