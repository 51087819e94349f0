#include "actors/console.h"

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <cstdio>

#include "actors/log.h"
#include "config/json.h"
#include "console_page.h"  // generated from actors/console/index.html
#include "net/simple_http_server.h"

namespace am::actors {

namespace {

// The page refreshes every two seconds; an actor that cannot answer in this long is shown as
// missing data, not waited for.
constexpr auto ask_timeout = std::chrono::seconds{2};

void append_number(std::string& out, double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  out += buf;
}

void append_row(std::string& out, const lb::signal_row& r, bool pair) {
  out += "{";
  if (pair) {
    out += "\"source\":";
    config::append_json_string(out, r.source);
    out += ",\"destination\":";
    config::append_json_string(out, r.destination);
  } else {
    out += "\"name\":";
    config::append_json_string(out, r.destination);
  }
  out += ",\"requests\":" + std::to_string(r.requests) +
         ",\"failures\":" + std::to_string(r.failures) + ",\"success_rate\":";
  append_number(out, r.success_rate());
  out += ",\"requests_per_s\":";
  append_number(out, r.requests_per_second);
  out += ",\"p50_ms\":";
  append_number(out, static_cast<double>(r.p50_us) / 1000);
  out += ",\"p95_ms\":";
  append_number(out, static_cast<double>(r.p95_us) / 1000);
  out += ",\"p99_ms\":";
  append_number(out, static_cast<double>(r.p99_us) / 1000);
  out += ",\"sidecars\":" + std::to_string(r.sidecars) + "}";
}

const char* breaker_name(int32_t mode) {
  return mode == 1 ? "open" : mode == 2 ? "half-open" : "closed";
}

void append_sidecar(std::string& out, const sidecar_status& s,
                    const std::vector<config::service_health_signal>* health) {
  out += "{\"name\":";
  config::append_json_string(out, s.name);
  out += std::string{",\"connected\":"} + (s.connected ? "true" : "false") +
         ",\"config_version\":" + std::to_string(s.config_version) +
         ",\"acked_unix_ms\":" + std::to_string(s.acked_unix_ms) +
         ",\"endpoints_version\":" + std::to_string(s.endpoints_version) + ",\"uses\":[";
  for (size_t i = 0; i < s.uses.size(); ++i) {
    out += i > 0 ? "," : "";
    config::append_json_string(out, s.uses[i]);
  }
  out += "],\"health\":[";
  if (health != nullptr) {
    for (size_t i = 0; i < health->size(); ++i) {
      const auto& h = (*health)[i];
      out += i > 0 ? ",{\"service\":" : "{\"service\":";
      config::append_json_string(out, h.service);
      out += ",\"breaker\":\"" + std::string{breaker_name(h.breaker)} +
             "\",\"ejected\":" + std::to_string(h.ejected) + "}";
    }
  }
  out += "]}";
}

}  // namespace

std::string overview_json(const console_view& v) {
  std::string out = "{\"node\":";
  config::append_json_string(out, v.node);
  out += ",\"window\":";
  config::append_json_string(out, v.window);
  out += ",\"config_version\":" + std::to_string(v.config_version) + ",\"services\":[";
  for (size_t i = 0; i < v.services.size(); ++i) {
    out += i > 0 ? "," : "";
    append_row(out, v.services[i], false);
  }
  out += "],\"edges\":[";
  for (size_t i = 0; i < v.edges.size(); ++i) {
    out += i > 0 ? "," : "";
    append_row(out, v.edges[i], true);
  }
  out += "],\"sidecars\":[";
  for (size_t i = 0; i < v.sidecars.size(); ++i) {
    out += i > 0 ? "," : "";
    auto h = v.health.find(v.sidecars[i].name);
    append_sidecar(out, v.sidecars[i], h == v.health.end() ? nullptr : &h->second);
  }
  out += "],\"federation\":" + to_json(v.federation);
  out += ",\"actors\":[";
  for (size_t i = 0; i < v.actors.size(); ++i) {
    const auto& a = v.actors[i];
    out += i > 0 ? ",{\"name\":" : "{\"name\":";
    config::append_json_string(out, a.name);
    out += ",\"messages\":" + std::to_string(a.messages) +
           ",\"mailbox\":" + std::to_string(a.mailbox) + ",\"processing_ms\":";
    append_number(out, a.processing_ms);
    out += "}";
  }
  return out + "]}\n";
}

console_listener::console_listener(caf::actor_system& sys, node_context& ctx, signals_actor signals,
                                   control_gateway_actor gateway)
    : sys_(sys), ctx_(ctx), signals_(std::move(signals)), gateway_(std::move(gateway)) {
  server_ =
      std::make_unique<net::simple_http_server>("console", [this](const net::simple_request& req) {
        net::simple_response r;
        std::string_view target = req.head.target;
        auto query = target.find('?');
        auto path = target.substr(0, query);
        if (req.head.method != "GET" && req.head.method != "HEAD") {
          r.status = 405;
          r.body = "the console only reads: use GET\n";
        } else if (path == "/" || path == "/index.html") {
          r.content_type = "text/html; charset=utf-8";
          r.body = console_page;
        } else if (path == "/api/overview") {
          auto window = lb::signal_window::one_minute;
          auto at = query == std::string_view::npos ? std::string_view::npos
                                                    : target.find("window=", query);
          if (at != std::string_view::npos) {
            auto value = target.substr(at + 7);
            value = value.substr(0, value.find('&'));
            if (!lb::parse_signal_window(std::string{value}, window)) {
              r.status = 400;
              r.body = "window: must be 10s, 1m or 10m\n";
              return r;
            }
          }
          r.content_type = "application/json";
          r.extra_headers.push_back({"cache-control", "no-store"});
          r.body = overview_json(gather(window));
        } else {
          r.status = 404;
          r.body = "not found; try / or /api/overview?window=10s|1m|10m\n";
        }
        return r;
      });
}

console_listener::~console_listener() = default;

bool console_listener::start(std::string& error) {
  const auto& at = ctx_.config.control_console;
  if (!server_->start(at.address, at.port, error)) {
    error = "console: " + error;
    return false;
  }
  log_info("console: http://" + at.address + ":" + std::to_string(at.port) + "/");
  return true;
}

console_view console_listener::gather(lb::signal_window window) {
  console_view v;
  v.node = ctx_.config.name;
  v.window = lb::to_string(window);
  v.config_version = ctx_.status.control_plane().config_version;
  v.federation = ctx_.status.federation();
  caf::scoped_actor self{sys_};
  auto failed = [](caf::error&) {};  // shown as missing data; the page says when it refreshed
  if (signals_) {
    for (bool by_pair : {false, true}) {
      self->request(signals_, ask_timeout, stat_atom::value,
                    lb::signal_query{window, "", "", by_pair})
          .receive(
              [&](std::vector<lb::signal_row>& rows) {
                (by_pair ? v.edges : v.services) = std::move(rows);
              },
              failed);
    }
    self->request(signals_, ask_timeout, health_atom::value)
        .receive([&](config::health_by_sidecar& h) { v.health = std::move(h); }, failed);
  }
  if (gateway_) {
    self->request(gateway_, ask_timeout, status_atom::value)
        .receive([&](std::vector<sidecar_status>& s) { v.sidecars = std::move(s); }, failed);
  }
  if (ctx_.config.has(config::role::sidecar)) {
    // The node's own sidecar takes each version in-process: in force as the commander makes it.
    sidecar_status own;
    own.name = ctx_.config.name;
    own.connected = true;
    own.config_version = static_cast<uint64_t>(std::max<int64_t>(0, v.config_version));
    own.endpoints_version = ctx_.status.endpoints_version();
    v.sidecars.insert(v.sidecars.begin(), std::move(own));
  }
  ctx_.actor_metrics.for_each([&](const actor_stats& s) {
    v.actors.push_back({s.name, s.messages.load(std::memory_order_relaxed),
                        s.mailbox.load(std::memory_order_relaxed),
                        static_cast<double>(s.busy_ns.load(std::memory_order_relaxed)) / 1e6});
  });
  return v;
}

}  // namespace am::actors
