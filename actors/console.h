// The web console of a control-plane node (`control.console`): one page, built into the
// binary, drawn from GET /api/overview (JSON) — the service graph and tables from the signals
// actor, the sidecars (acked config versions, breakers and ejections) from the control
// gateway and the sidecars' reports, federation peers and the control plane's own actors from
// the node's status. Served on its own small HTTP thread; each API call asks the actors with
// a timeout, never blocking them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actors/control_gateway.h"
#include "actors/node_context.h"
#include "actors/signals.h"

namespace am::net {
class simple_http_server;
}

namespace am::actors {

// Everything the overview shows, gathered; overview_json() only formats it.
struct console_view {
  std::string node;
  std::string window;                    // "10s", "1m", "10m"
  int64_t config_version = -1;           // the commander's; -1: none
  std::vector<lb::signal_row> services;  // per destination
  std::vector<lb::signal_row> edges;     // per (source, destination)
  std::vector<sidecar_status> sidecars;
  config::health_by_sidecar health;  // breakers not closed and ejections, by sidecar
  federation_status federation;
  struct actor_row {
    std::string name;
    uint64_t messages = 0;
    uint64_t mailbox = 0;
    double processing_ms = 0;
  };
  std::vector<actor_row> actors;
};

std::string overview_json(const console_view& v);

class console_listener {
 public:
  console_listener(caf::actor_system& sys, node_context& ctx, signals_actor signals,
                   control_gateway_actor gateway);
  ~console_listener();

  // Binds control.console (set); false with `error` when it cannot.
  bool start(std::string& error);

 private:
  console_view gather(lb::signal_window window);

  caf::actor_system& sys_;
  node_context& ctx_;
  signals_actor signals_;
  control_gateway_actor gateway_;
  std::unique_ptr<net::simple_http_server> server_;
};

}  // namespace am::actors
