// The demo's built-in upstream services: one small HTTP server per endpoint of the demo
// config, answering with who it is and what it received.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "net/simple_http_server.h"

namespace am::tools {

class demo_upstreams {
 public:
  // Starts a server for every endpoint of every service; false with `error` on a bind error.
  bool start(const config::node& node, std::string& error);

 private:
  std::vector<std::unique_ptr<net::simple_http_server>> servers_;
};

}  // namespace am::tools
