#include "actors/metrics_exposition.h"

#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <atomic>
#include <limits>
#include <sstream>

#include "net/protocol_sniffer.h"

namespace am::actors {

namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

ClientMetric counter(std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.counter.value = value;
  return m;
}

ClientMetric gauge(std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  m.gauge.value = value;
  return m;
}

double load(const std::atomic<uint64_t>& v) {
  return static_cast<double>(v.load(std::memory_order_relaxed));
}

// One counter per code seen (index: the code), labelled `label`.
template <size_t N>
void add_by_code(const std::array<std::atomic<uint64_t>, N>& counts,
                 const std::vector<ClientMetric::Label>& base, const char* label,
                 MetricFamily& family) {
  for (size_t code = 0; code < N; ++code) {
    auto n = counts[code].load(std::memory_order_relaxed);
    if (n != 0) {
      auto labels = base;
      labels.push_back({label, std::to_string(code)});
      family.metric.push_back(counter(labels, static_cast<double>(n)));
    }
  }
}

void add_traffic(const net::stats_registry& stats, std::vector<MetricFamily>& out) {
  auto requests = family("actormesh_requests_total", "Requests by service, direction and status",
                         MetricType::Counter);
  auto latency =
      family("actormesh_request_duration_seconds",
             "Request duration from request head to response end", MetricType::Histogram);
  auto grpc_calls = family("actormesh_grpc_calls_total",
                           "gRPC calls by service, direction and gRPC status (the last code "
                           "counts statuses out of range)",
                           MetricType::Counter);
  auto active = family("actormesh_active_requests", "Requests in flight", MetricType::Gauge);
  auto breakers =
      family("actormesh_breaker_state",
             "The service's circuit breaker: 0 closed, 1 open, 2 half-open", MetricType::Gauge);
  auto ejected =
      family("actormesh_ejected_endpoints",
             "Endpoints of the service its outlier detection ejected", MetricType::Gauge);
  auto bytes = family("actormesh_body_bytes_total", "Body bytes by service, direction and way",
                      MetricType::Counter);
  stats.for_each([&](const std::string& service, net::direction d, const net::traffic_stats& s) {
    std::vector<ClientMetric::Label> base = {{"service", service}, {"direction", to_string(d)}};
    add_by_code(s.requests_by_status, base, "code", requests);
    add_by_code(s.grpc_by_status, base, "grpc_code", grpc_calls);
    ClientMetric h;
    h.label = base;
    uint64_t cumulative = 0;
    for (size_t i = 0; i < s.latency_buckets.size(); ++i) {
      cumulative += s.latency_buckets[i].load(std::memory_order_relaxed);
      ClientMetric::Bucket b;
      b.cumulative_count = cumulative;
      b.upper_bound = i < net::latency_bounds_us.size()
                          ? static_cast<double>(net::latency_bounds_us[i]) / 1e6
                          : std::numeric_limits<double>::infinity();
      h.histogram.bucket.push_back(b);
    }
    h.histogram.sample_count = cumulative;
    h.histogram.sample_sum = load(s.latency_sum_us) / 1e6;
    latency.metric.push_back(h);
    active.metric.push_back(
        gauge(base, static_cast<double>(s.active.load(std::memory_order_relaxed))));
    if (d == net::direction::outbound) {
      std::vector<ClientMetric::Label> svc = {{"service", service}};
      breakers.metric.push_back(
          gauge(svc, static_cast<double>(s.breaker_mode.load(std::memory_order_relaxed))));
      ejected.metric.push_back(
          gauge(svc, static_cast<double>(s.ejected.load(std::memory_order_relaxed))));
    }
    auto in = base;
    in.push_back({"way", "in"});
    bytes.metric.push_back(counter(in, load(s.bytes_in)));
    auto outl = base;
    outl.push_back({"way", "out"});
    bytes.metric.push_back(counter(outl, load(s.bytes_out)));
  });
  out.push_back(std::move(requests));
  out.push_back(std::move(grpc_calls));
  out.push_back(std::move(latency));
  out.push_back(std::move(active));
  out.push_back(std::move(breakers));
  out.push_back(std::move(ejected));
  out.push_back(std::move(bytes));
}

void add_proxy(const net::proxy_stats& p, std::vector<MetricFamily>& out) {
  auto conns = family("actormesh_upstream_connections_total",
                      "Upstream connections opened, and requests that reused a pooled one",
                      MetricType::Counter);
  conns.metric.push_back(counter({{"event", "opened"}}, load(p.upstream_connections_opened)));
  conns.metric.push_back(counter({{"event", "reused"}}, load(p.upstream_connections_reused)));
  out.push_back(std::move(conns));
  auto down =
      family("actormesh_downstream_connections", "Open client connections", MetricType::Gauge);
  down.metric.push_back(
      gauge({}, static_cast<double>(p.downstream_connections.load(std::memory_order_relaxed))));
  out.push_back(std::move(down));
  auto snapshots = family("actormesh_routing_snapshots",
                          "Routing snapshots alive in the workers: the current one of each, and "
                          "older ones requests in flight still hold",
                          MetricType::Gauge);
  snapshots.metric.push_back(
      gauge({}, static_cast<double>(p.routing_snapshots.load(std::memory_order_relaxed))));
  out.push_back(std::move(snapshots));
  auto protections = family("actormesh_protection_events_total",
                            "What the sidecar's protections refused, cut or dropped: requests "
                            "(loops, oversized HTTP/2 header lists), connections (full "
                            "listeners, HTTP/2 floods and rapid resets), paused accepts, "
                            "access-log lines",
                            MetricType::Counter);
  for (size_t e = 0; e < net::protection_event_count; ++e) {
    protections.metric.push_back(counter(
        {{"event", net::to_string(static_cast<net::protection_event>(e))}}, load(p.protection[e])));
  }
  out.push_back(std::move(protections));
  auto spans = family("actormesh_spans_total",
                      "Spans sent to the tracing collector (exported), or dropped: its queue "
                      "full, the collector slow or gone",
                      MetricType::Counter);
  spans.metric.push_back(counter({{"event", "exported"}}, load(p.spans_exported)));
  spans.metric.push_back(counter({{"event", "dropped"}}, load(p.spans_dropped)));
  out.push_back(std::move(spans));
  auto taps = family("actormesh_taps_active", "Taps (meshctl tap) installed on this sidecar",
                     MetricType::Gauge);
  taps.metric.push_back(gauge({}, static_cast<double>(p.taps_active.load())));
  out.push_back(std::move(taps));
  auto tapped = family("actormesh_tap_events_total",
                       "Requests taps saw (sent), or left out by their rate limits (dropped)",
                       MetricType::Counter);
  tapped.metric.push_back(counter({{"event", "sent"}}, load(p.tap_events)));
  tapped.metric.push_back(counter({{"event", "dropped"}}, load(p.tap_dropped)));
  out.push_back(std::move(tapped));
  auto intercepted = family("actormesh_intercepted_connections_total",
                            "Connections redirected to the sidecar (transparent mode), by the "
                            "protocol their first bytes showed",
                            MetricType::Counter);
  for (size_t i = 0; i < p.intercepted.size(); ++i) {
    auto protocol = net::to_string(static_cast<net::sniffed_protocol>(i + 1));
    intercepted.metric.push_back(counter({{"protocol", protocol}}, load(p.intercepted[i])));
  }
  out.push_back(std::move(intercepted));
  auto timeouts = family("actormesh_protocol_detect_timeouts_total",
                         "Intercepted connections whose client said too little within "
                         "transparent.detect_timeout (taken for TCP: a server-first protocol)",
                         MetricType::Counter);
  timeouts.metric.push_back(counter({}, load(p.detect_timeouts)));
  out.push_back(std::move(timeouts));
}

void add_actors(const actor_metrics_registry& actors, std::vector<MetricFamily>& out) {
  auto messages =
      family("actormesh_actor_messages_total", "Messages handled, per actor", MetricType::Counter);
  auto mailbox =
      family("actormesh_actor_mailbox_size",
             "Mailbox size seen by the last handled message, per actor", MetricType::Gauge);
  auto busy = family("actormesh_actor_processing_seconds_total",
                     "Time spent in message handlers, per actor", MetricType::Counter);
  actors.for_each([&](const actor_stats& s) {
    messages.metric.push_back(counter({{"actor", s.name}}, load(s.messages)));
    mailbox.metric.push_back(gauge({{"actor", s.name}}, load(s.mailbox)));
    busy.metric.push_back(counter({{"actor", s.name}}, load(s.busy_ns) / 1e9));
  });
  out.push_back(std::move(messages));
  out.push_back(std::move(mailbox));
  out.push_back(std::move(busy));
}

void add_control_plane(const node_status& status, std::vector<MetricFamily>& out) {
  if (auto connected = status.control_plane_connected(); connected >= 0) {
    auto cp = family("actormesh_control_plane_connected",
                     "1 while attached to the remote control plane, 0 while serving what it knew",
                     MetricType::Gauge);
    cp.metric.push_back(gauge({}, connected));
    out.push_back(std::move(cp));
  }
  auto g = status.control_plane();
  if (g.config_version >= 0) {
    auto version =
        family("actormesh_config_version", "The mesh config version in force", MetricType::Gauge);
    version.metric.push_back(gauge({}, static_cast<double>(g.config_version)));
    out.push_back(std::move(version));
  }
  if (g.sidecars_connected >= 0) {
    auto sidecars =
        family("actormesh_control_sidecars", "Sidecars in other processes that attached, by state",
               MetricType::Gauge);
    sidecars.metric.push_back(
        gauge({{"state", "connected"}}, static_cast<double>(g.sidecars_connected)));
    sidecars.metric.push_back(
        gauge({{"state", "disconnected"}}, static_cast<double>(g.sidecars_disconnected)));
    out.push_back(std::move(sidecars));
    auto behind = family("actormesh_control_sidecars_behind",
                         "Connected sidecars that have not acknowledged the version in force",
                         MetricType::Gauge);
    behind.metric.push_back(gauge({}, static_cast<double>(g.sidecars_behind)));
    out.push_back(std::move(behind));
  }
}

// The federation gateway's peers: up, stale, round trip, the endpoints imported from each.
void add_federation(const node_status& status, std::vector<MetricFamily>& out) {
  auto f = status.federation();
  if (f.cluster.empty()) {
    return;
  }
  auto up = family("actormesh_federation_peer_up",
                   "1 while a peer cluster's gateway answers pings within peer_timeout",
                   MetricType::Gauge);
  auto stale = family("actormesh_federation_peer_stale",
                      "1 while a down peer's services are kept as last known", MetricType::Gauge);
  auto rtt = family("actormesh_federation_peer_rtt_seconds",
                    "The last ping's round trip to a peer cluster's gateway", MetricType::Gauge);
  auto imported = family("actormesh_federation_imported_endpoints",
                         "Endpoints a peer cluster has behind its ingress, per imported service",
                         MetricType::Gauge);
  for (const auto& p : f.peers) {
    up.metric.push_back(gauge({{"peer", p.name}}, p.up ? 1 : 0));
    stale.metric.push_back(gauge({{"peer", p.name}}, p.stale ? 1 : 0));
    if (p.rtt_us >= 0) {
      rtt.metric.push_back(gauge({{"peer", p.name}}, static_cast<double>(p.rtt_us) / 1e6));
    }
    for (const auto& [service, n] : p.imported) {
      imported.metric.push_back(
          gauge({{"peer", p.name}, {"service", service}}, static_cast<double>(n)));
    }
  }
  for (auto* family : {&up, &stale, &rtt, &imported}) {
    if (!family->metric.empty()) {
      out.push_back(std::move(*family));
    }
  }
}

// How each service's endpoints are picked (`lb: global`), and the global-lb's weights.
void add_balancing(const net::stats_registry& stats, const node_status& status,
                   std::vector<MetricFamily>& out) {
  auto mode = family("actormesh_lb_mode",
                     "1 for the mode an lb: global service is in: global (the global-lb's "
                     "weights) or local (least request: no fresh weights)",
                     MetricType::Gauge);
  stats.for_each([&](const std::string& service, net::direction d, const net::traffic_stats& s) {
    auto m = s.lb_mode.load(std::memory_order_relaxed);
    if (d == net::direction::outbound && m != 0) {
      mode.metric.push_back(
          gauge({{"service", service}, {"mode", m == 1 ? "global" : "local"}}, 1));
    }
  });
  auto weight = family("actormesh_endpoint_weight",
                       "The global-lb's weight of an endpoint, as this sidecar last heard it",
                       MetricType::Gauge);
  for (const auto& [service, weights] : status.global_weights()) {
    for (const auto& [endpoint, w] : weights) {
      weight.metric.push_back(
          gauge({{"service", service}, {"endpoint", endpoint}}, static_cast<double>(w)));
    }
  }
  if (!mode.metric.empty()) {
    out.push_back(std::move(mode));
  }
  if (!weight.metric.empty()) {
    out.push_back(std::move(weight));
  }
}

}  // namespace

std::string render_metrics(const net::stats_registry& stats, const actor_metrics_registry& actors,
                           const node_status& status) {
  std::vector<MetricFamily> families;
  add_traffic(stats, families);
  add_proxy(stats.proxy(), families);
  add_balancing(stats, status, families);
  add_actors(actors, families);
  add_control_plane(status, families);
  add_federation(status, families);
  std::ostringstream out;
  prometheus::TextSerializer{}.Serialize(out, families);
  return out.str();
}

}  // namespace am::actors
