// What every actor of one node shares: the config it started with, the counters the data
// path records, and the status the admin listener reports. Owned by the node; outlives
// every actor and worker thread.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "actors/actor_metrics.h"
#include "config/model.h"
#include "net/access_log.h"
#include "net/span_exporter.h"
#include "net/traffic_stats.h"

namespace am::actors {

// What a control-plane node reports about itself and its sidecars (for /metrics).
struct control_plane_gauges {
  int64_t config_version = -1;        // the commander's version in force; -1: no commander
  int64_t sidecars_connected = -1;    // -1: no control gateway
  int64_t sidecars_disconnected = 0;  // attached once, gone now
  int64_t sidecars_behind = 0;        // connected, not yet acked the version in force
};

// A peer cluster as this node's federation gateway knows it (for /metrics, /config and the
// API's Clusters call).
struct federation_peer_status {
  std::string name;
  std::string address;     // its gateway, host:port
  bool connected = false;  // a middleman link and a hello answered
  bool up = false;         // answering pings within federation.peer_timeout
  bool stale = false;      // down: its services kept as last known until stale_after
  int64_t last_heard_unix_ms = 0;
  int64_t rtt_us = -1;                       // the last ping's round trip; -1: none yet
  std::map<std::string, uint32_t> imported;  // service → its endpoints behind the ingress
};

struct federation_status {
  std::string cluster;  // empty: no federation on this node
  std::vector<std::string> exported;
  std::vector<federation_peer_status> peers;
};

// The federation's state as JSON, for /config and the console ("null" without one).
std::string to_json(const federation_status& f);

// What a node runs, for what readiness means: a sidecar is ready when it can proxy, a
// control-plane node when its discovery and commander have made their first versions.
struct node_roles {
  bool sidecar = true;
  bool discovery = false;
  bool commander = false;
};

// Written by actors, read by the admin thread.
class node_status {
 public:
  explicit node_status(node_roles roles = {}) : roles_(roles) {}

  void set_endpoints(uint64_t version, std::string json);
  void set_services(uint64_t version);
  void set_workers_running(bool running);
  void set_draining();
  void set_control_plane(bool connected);  // only nodes that attach to a remote one

  // 1 when attached to the remote control plane, 0 when not, -1 when the node has none.
  int control_plane_connected() const;

  void set_config_version(uint64_t version);                                   // the commander
  void set_discovery_version(uint64_t version);                                // discovery
  void set_sidecars(int64_t connected, int64_t disconnected, int64_t behind);  // the gateway
  control_plane_gauges control_plane() const;

  // A sidecar: ready when the workers run and both the services and the endpoints have
  // arrived. A control-plane node: when the commander has a config version and discovery a
  // first endpoint table (what it pushes to the sidecars that attach).
  bool ready(std::string& why) const;
  bool draining() const;
  std::string endpoints_json() const;
  uint64_t endpoints_version() const;

  // The global-lb's last weights, by service: endpoint and weight (the sidecar; each table
  // names every lb: global service the sidecar reported).
  using weights_by_service = std::map<std::string, std::vector<std::pair<std::string, uint32_t>>>;
  void set_global_weights(weights_by_service weights);
  weights_by_service global_weights() const;
  void set_federation(federation_status status);  // the federation gateway
  federation_status federation() const;

 private:
  mutable std::mutex mutex_;
  const node_roles roles_;
  uint64_t discovery_version_ = 0;
  uint64_t endpoints_version_ = 0;
  uint64_t services_version_ = 0;
  std::string endpoints_json_ = "{}";
  bool workers_running_ = false;
  bool draining_ = false;
  int control_plane_ = -1;
  control_plane_gauges gauges_;
  weights_by_service global_weights_;
  federation_status federation_;
};

struct node_context {
  explicit node_context(config::node n)
      : config(std::move(n)),
        access_log(std::make_unique<net::access_log_writer>(
            config.sidecar.access_log.enabled ? config.sidecar.access_log.path : "",
            config.sidecar.access_log.max_queue_bytes,
            &stats.proxy().protection[net::protection_event::access_log_dropped])),
        // The audit log loses nothing: config changes are few, and each must be on record.
        audit_log(std::make_unique<net::access_log_writer>(
            config.has(config::role::commander) && config.audit_log != "off" ? config.audit_log
                                                                             : "")) {
    if (const auto& t = config.sidecar.tracing; t.enabled()) {
      spans = std::make_unique<net::span_exporter>(t.address, t.port, t.max_queue_spans,
                                                   stats.proxy().spans_exported,
                                                   stats.proxy().spans_dropped);
    }
  }

  const config::node config;
  net::stats_registry stats;
  actor_metrics_registry actor_metrics;
  std::unique_ptr<net::access_log_writer> access_log;
  std::unique_ptr<net::access_log_writer> audit_log;  // the commander's (JSON lines)
  std::unique_ptr<net::span_exporter> spans;          // null: no tracing collector
  node_status status{node_roles{config.has(config::role::sidecar),
                                config.has(config::role::discovery),
                                config.has(config::role::commander)}};
};

}  // namespace am::actors
