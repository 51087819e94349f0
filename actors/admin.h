// The admin listener (loopback by default): /metrics, /ready, /healthz, /config and
// /quitquitquit, served on its own small HTTP server thread, never on a data-plane worker.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "actors/node_context.h"

namespace am::net {
class simple_http_server;
}

namespace am::actors {

class admin_listener {
 public:
  // `quit` is called (on the admin thread) for POST /quitquitquit.
  admin_listener(node_context& ctx, std::function<void()> quit);
  ~admin_listener();

  bool start(std::string& error);

 private:
  node_context& ctx_;
  std::function<void()> quit_;
  std::unique_ptr<net::simple_http_server> server_;
};

}  // namespace am::actors
