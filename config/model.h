// The validated configuration model: plain structs, built once by config/load.h and then
// shared read-only. Nothing here knows about YAML, CAF or sockets.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "config/locality.h"
#include "config/policy_model.h"

namespace am::config {

using millis = std::chrono::milliseconds;

// -- endpoints and services --------------------------------------------------------------------

struct endpoint {
  std::string address;  // numeric IPv4 address
  uint16_t port = 0;
  uint32_t weight = 1;
  std::map<std::string, std::string> labels;  // version, zone, node, ...

  friend bool operator==(const endpoint&, const endpoint&) = default;
};

// An endpoint labelled `tls: mesh` is reached over mutual TLS with the sidecar's certificate
// (`tls`): a peer cluster's federation ingress is, as its import labels it.
inline constexpr const char* tls_label = "tls";
inline constexpr const char* mesh_tls = "mesh";
inline bool wants_mesh_tls(const endpoint& ep) {
  auto i = ep.labels.find(tls_label);
  return i != ep.labels.end() && i->second == mesh_tls;
}

// Endpoints per service name, as one discovery source knows them.
using endpoint_table = std::map<std::string, std::vector<endpoint>>;

// How a sidecar picks one endpoint of a service (lb/ holds the pickers): smooth weighted
// round robin, least request (power of two choices over requests in flight), weighted
// random, a consistent hash of a request key (a ring: adding or removing one of N endpoints
// moves about 1/N of the keys), or `global`: weights the global-lb computes from the whole
// mesh's load, picked at random by weight, and local least request while it has none fresh.
enum class lb_policy { round_robin, least_request, random, consistent_hash, global };

// Where a consistent-hash service takes a request's key from. A request without the header
// or cookie is picked at random.
struct hash_key_spec {
  enum class source { header, cookie, source_ip };
  source from = source::source_ip;
  std::string name;  // the header (lower case) or cookie
};

// Concurrency limits of a service, per sidecar; 0 is unlimited. Over a limit a request gets
// 503 with the limit's name.
struct concurrency_limits {
  uint32_t max_connections = 0;  // upstream connections open
  uint32_t max_pending = 0;      // requests waiting for a connection
  uint32_t max_requests = 0;     // requests in flight
  uint32_t max_retries = 0;      // retries in flight
};

struct service {
  std::string name;
  millis timeout{15000};  // the whole request, every retry included, to the response head
  // gRPC calls are cut only by their grpc-timeout, and by this when set (0: none), so that
  // long-lived streams live as long as they need.
  millis stream_timeout{0};
  millis connect_timeout{2000};
  millis idle_timeout{0};  // pooled upstream connections; 0: the sidecar's idle_timeout
  lb_policy lb = lb_policy::round_robin;
  hash_key_spec hash_key;  // for lb_policy::consistent_hash
  locality_spec locality;  // how it prefers endpoints near the sidecar
  app_protocol protocol = app_protocol::automatic;
  retry_spec retry;
  retry_budget_spec retry_budget;
  std::optional<breaker_spec> breaker;
  concurrency_limits limits;
  std::optional<outlier_spec> outlier;
  std::vector<route_spec> routes;
  access_spec access;
  // Where intercepted (transparent) connections reach it: virtual IPs, with the ports it
  // serves on them (none: every port). Every endpoint's address:port maps to it as well.
  std::vector<std::string> addresses;
  std::vector<uint16_t> ports;
  // `export: true`: offered to peer clusters (federation), whose sidecars reach it through
  // this cluster's ingress listener; the ingress refuses every service not exported.
  bool exported = false;
};

// -- the node ----------------------------------------------------------------------------------

// What a listener accepts: `auto` tells HTTP/2 (prior knowledge, h2c) from HTTP/1.1 by the
// connection preface; `http1` and `http2` fix it.
enum class listener_protocol { automatic, http1, http2 };

struct listener {
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: listener disabled
  listener_protocol protocol = listener_protocol::automatic;
};

struct inbound_listener : listener {
  std::string app_address = "127.0.0.1";  // the local application behind the sidecar
  uint16_t app_port = 0;
};

// Transparent mode: connections that iptables redirected to the sidecar (`actormesh init`).
// Their original destination (SO_ORIGINAL_DST) decides where they go; their first bytes
// decide how (HTTP/1.x, HTTP/2, TLS passed through, opaque TCP).
struct transparent_settings {
  std::string address = "127.0.0.1";  // REDIRECT in OUTPUT delivers to 127.0.0.1
  // IPv6 connections (ip6tables REDIRECT delivers to ::1) are passed through to their original
  // destination as TCP: the mesh's services and endpoints are IPv4. Where the host has no
  // IPv6, this listener is skipped.
  std::string address6 = "::1";
  uint16_t port = 0;  // the outbound transparent listener (IPv4 and IPv6); 0: none
  // The inbound listener receives redirected connections too: it detects their protocol and
  // sends each to its original destination port.
  bool inbound = false;
  // A client that has said nothing after this is taken for a server-first protocol (MySQL,
  // SMTP...) and connected through as TCP. Short: a server-first client waits this long.
  millis detect_timeout{500};
  // Destination ports (outbound and inbound) whose connections skip detection: TCP at once.
  std::vector<uint16_t> opaque_ports;
  bool enabled() const { return port != 0 || inbound; }
};

// What the outbound listener does with a host that names no mesh service.
enum class unknown_host_policy { passthrough, reject };

// Spans to a Zipkin v2 collector (`POST /api/v2/spans`), one per sampled request and hop.
// Port 0: none are exported (trace context still goes on, and access logs carry the ids).
struct tracing_settings {
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  uint32_t max_queue_spans = 10000;  // waiting for the collector; more are dropped (counted)
  bool enabled() const { return port != 0; }
};

struct access_log_settings {
  bool enabled = true;
  std::string path = "stdout";  // "stdout" or a file path
  // Lines waiting for the writer beyond this are dropped (and counted): a stalled disk never
  // grows the sidecar's memory.
  uint64_t max_queue_bytes = 8 * 1024 * 1024;
};

// The admin listener's own limits (it serves operators and probes, never traffic).
struct admin_limit_settings {
  uint32_t max_connections = 64;
  millis timeout{10000};  // a connection idle or stuck in a request this long is closed
};

// PEM files for mutual TLS: this side shows `cert` (signed by `ca`, with `key`) and accepts
// only a peer whose certificate chains to `ca`. All three, or none (TLS off).
struct tls_files {
  std::string cert;
  std::string key;
  std::string ca;
  bool enabled() const { return !cert.empty(); }
};

struct sidecar_settings {
  std::string service_name = "unknown";  // identity of the local service, for inbound metrics
  unsigned workers = 0;                  // 0: one per core
  listener outbound{"127.0.0.1", 15001};
  inbound_listener inbound;
  listener admin{"127.0.0.1", 15000};
  transparent_settings transparent;
  unknown_host_policy unknown_hosts = unknown_host_policy::passthrough;
  millis drain_timeout{10000};
  millis header_timeout{10000};           // a client must finish its request head within this
  millis idle_timeout{60000};             // keep-alive connections idle longer than this are closed
  uint32_t max_header_bytes = 64 * 1024;  // HTTP/1.1 heads and HTTP/2 header lists alike
  // Client connections per listener (outbound and inbound each); more are closed at accept.
  uint32_t max_connections = 10000;
  // Proxy hops a request may have passed (x-actormesh-hops); more: 508 loop_detected.
  uint32_t max_hops = 16;
  // HTTP/2: consecutive DATA frames without payload nor END_STREAM a peer may send before
  // the connection ends with ENHANCE_YOUR_CALM (Envoy's default, 1).
  uint32_t h2_max_empty_frames = 1;
  // HTTP/2: bytes of freed codec memory each worker keeps for reuse; beyond, it goes back.
  uint64_t h2_free_list_bytes = 1024 * 1024;
  admin_limit_settings admin_limits;
  // A request without x-request-id gets one (a UUID) before it goes on; false: ids that
  // clients set pass through, none is made up.
  bool generate_request_id = true;
  access_log_settings access_log;
  tracing_settings tracing;
  // The services this sidecar calls: it subscribes to their endpoints only (empty: all).
  std::vector<std::string> uses;
  // Where it runs: `sidecar.locality`, each field left empty taken from ACTORMESH_CLUSTER,
  // ACTORMESH_REGION, ACTORMESH_ZONE, ACTORMESH_NODE (a pod sets them from the downward API).
  location locality;
  // Weights from the global-lb older than this (it is gone, the link is down) are dropped:
  // `lb: global` services fall back to local least request until fresh ones come.
  millis global_weights_max_age{5000};
  // Federation's ingress (`federation.ingress`, on the gateway's node): requests from peer
  // clusters, for exported services only, routed to this cluster's own endpoints. Port 0: none.
  listener ingress{"127.0.0.1", 0};
  // The node's certificate (`tls`) on the data path: the ingress serves mutual TLS with it
  // (ALPN h2, http/1.1), and endpoints labelled `tls: mesh` are called with it. Empty: the
  // ingress is plaintext, and such endpoints cannot be reached.
  tls_files tls;
};

enum class role { sidecar, discovery, commander, global_lb };

// The control-plane gRPC API: a listener whose callers authenticate when configured.
struct api_listener : listener {
  // Lines "IDENTITY TOKEN": a call must carry `authorization: Bearer TOKEN`, and is made as
  // IDENTITY (the audit log's source). Empty: no tokens asked.
  std::string tokens_file;
  tls_files tls;  // TLS with client certificates required (the identity: the certificate's CN)
  bool authenticated() const { return !tokens_file.empty() || tls.enabled(); }
};

// An etcd v3 endpoint source: keys `<prefix><service>/<id>` hold one endpoint as JSON.
struct etcd_source_settings {
  std::string endpoints;  // "host:port" of an etcd member's client URL; empty: no source
  std::string prefix = "/actormesh/services/";
};

// A Kubernetes API server, for EndpointSlices (discovery) and MeshConfig resources (commander).
struct kubernetes_settings {
  std::string api;  // "http://host:port" or "https://host:port"; empty: not used
  std::string token_file = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  std::string ca_file;     // for https; empty: the system's CAs
  std::string namespace_;  // empty: every namespace
};

// A peer cluster's gateway (federation/).
struct federation_peer {
  std::string name;  // its cluster name, as its gateway says it
  std::string address = "127.0.0.1";
  uint16_t port = 0;
  // Its place in the failover order (default: its position in `peers`). Peers of one priority
  // share the traffic that spills to them, by weight.
  unsigned priority = 0;
  uint32_t weight = 1;
};

// `federation`: this control plane's gateway to peer clusters. It links to each peer's gateway
// through the middleman, tells them what this cluster exports (`export: true` services) and
// imports what they export as endpoints labelled with their cluster (a discovery source per
// peer). Off while `cluster` is empty.
struct federation_settings {
  std::string cluster;                 // this cluster's name
  listener listen{"127.0.0.1", 0};     // the gateway, published through the middleman
  listener ingress{"127.0.0.1", 0};    // what peers' sidecars connect to (this node's sidecar)
  std::vector<federation_peer> peers;  // the failover order: the first is tried first
  millis heartbeat{100};     // middleman heartbeats (CAF has none by default: a hung peer...)
  millis peer_timeout{500};  // ...is noticed only once it said nothing for this long
  // A peer's services stay as last known while its link is down, marked stale, and go only
  // when it says so or after this long.
  millis stale_after{300000};
  bool enabled() const { return !cluster.empty(); }
};

struct node {
  std::string name = "actormesh";
  std::set<role> roles;
  sidecar_settings sidecar;
  std::string endpoints_file;  // watched static endpoint file; empty: none
  etcd_source_settings etcd;
  kubernetes_settings kubernetes_endpoints;  // EndpointSlices
  kubernetes_settings kubernetes_config;     // MeshConfig custom resources
  // A control-plane node (discovery, commander) publishes its control gateway here for
  // sidecars in other processes (port 0: not published).
  listener control_listen{"127.0.0.1", 0};
  // The control-plane gRPC API (Commander, Discovery) that meshctl calls (port 0: off).
  api_listener control_api;  // 127.0.0.1, port 0
  // The web console (port 0: off): a page and its JSON API, /api/overview.
  listener control_console{"127.0.0.1", 0};
  // This node's certificate for the middleman links between sidecars and the control plane
  // (control.listen and control_plane): mutual TLS, both sides from the same CA. Off: plain.
  tls_files tls;
  // A sidecar node without the control-plane roles attaches to this control plane.
  listener control_plane{"127.0.0.1", 0};
  // Where the commander writes its audit log (JSON lines): "stdout", a file, or "off".
  std::string audit_log = "stdout";
  // Where the commander keeps its config versions across restarts (empty: memory only).
  std::string commander_store;
  federation_settings federation;
  std::map<std::string, service> services;
  endpoint_table inline_endpoints;  // endpoints written in the node file itself

  bool has(role r) const { return roles.count(r) > 0; }
};

const char* to_string(role r);
const char* to_string(unknown_host_policy p);

}  // namespace am::config
