#include "actors/admin.h"

#include <map>

#include "actors/metrics_exposition.h"
#include "config/json.h"
#include "net/simple_http_server.h"

namespace am::actors {

namespace {

// `lb: global` services: the mode the workers are in and the weights they last heard.
std::string global_weights_json(const node_context& ctx) {
  std::map<std::string, int> modes;
  ctx.stats.for_each(
      [&](const std::string& service, net::direction d, const net::traffic_stats& s) {
        auto m = s.lb_mode.load(std::memory_order_relaxed);
        if (d == net::direction::outbound && m != 0) {
          modes[service] = m;
        }
      });
  auto weights = ctx.status.global_weights();
  std::string out = "{";
  for (const auto& [service, mode] : modes) {
    out += out.size() > 1 ? "," : "";
    config::append_json_string(out, service);
    out += mode == 1 ? ":{\"mode\":\"global\",\"weights\":{" : ":{\"mode\":\"local\",\"weights\":{";
    bool first = true;
    for (const auto& [endpoint, w] : weights[service]) {
      out += first ? "" : ",";
      first = false;
      config::append_json_string(out, endpoint);
      out += ":" + std::to_string(w);
    }
    out += "}}";
  }
  return out + "}";
}

}  // namespace

admin_listener::admin_listener(node_context& ctx, std::function<void()> quit)
    : ctx_(ctx), quit_(std::move(quit)) {
  server_ = std::make_unique<net::simple_http_server>(
      "admin",
      [this](const net::simple_request& req) {
        net::simple_response r;
        const auto& path = req.head.target;
        if (path == "/healthz") {
          r.body = "ok\n";
        } else if (path == "/ready") {
          std::string why;
          r.status = ctx_.status.ready(why) ? 200 : 503;
          r.body = why + "\n";
        } else if (path == "/metrics") {
          r.content_type = "text/plain; version=0.0.4";
          r.body = render_metrics(ctx_.stats, ctx_.actor_metrics, ctx_.status);
        } else if (path == "/config") {
          r.content_type = "application/json";
          r.body = "{\"node\":" + config::to_json(ctx_.config) +
                   ",\"endpoints_version\":" + std::to_string(ctx_.status.endpoints_version()) +
                   ",\"endpoints\":" + ctx_.status.endpoints_json() +
                   ",\"global_weights\":" + global_weights_json(ctx_) +
                   ",\"federation\":" + to_json(ctx_.status.federation()) + "}\n";
        } else if (path == "/quitquitquit") {
          if (req.head.method != "POST") {
            r.status = 405;
            r.body = "use POST\n";
          } else {
            r.body = "draining\n";
            quit_();
          }
        } else {
          r.status = 404;
          r.body = "not found; try /metrics /ready /healthz /config /quitquitquit\n";
        }
        return r;
      },
      net::simple_http_server::limits{ctx_.config.sidecar.admin_limits.max_connections,
                                      ctx_.config.sidecar.admin_limits.timeout.count()});
}

admin_listener::~admin_listener() = default;

bool admin_listener::start(std::string& error) {
  const auto& l = ctx_.config.sidecar.admin;
  if (l.port == 0) {
    return true;
  }
  return server_->start(l.address, l.port, error);
}

}  // namespace am::actors
