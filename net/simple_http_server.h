// A small HTTP/1.1 server on its own event-loop thread, for the admin listener and the demo's
// built-in upstreams: each request is answered whole by a handler. Not for proxying.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "net/event_loop.h"
#include "net/http1_message.h"
#include "net/listening_socket.h"

namespace am::net {

struct simple_request {
  const message_head& head;
  const std::string& body;
  const std::string& peer;
};

struct simple_response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<header_field> extra_headers;
};

// Whoever reaches the port must not exhaust the server: connections beyond the cap are closed
// at accept, and one idle (or stuck in a request) for `timeout_ms` is closed.
struct simple_server_limits {
  uint32_t max_connections = 64;
  int64_t timeout_ms = 10000;
};

class simple_http_server {
 public:
  using handler = std::function<simple_response(const simple_request&)>;
  using limits = simple_server_limits;

  simple_http_server(std::string name, handler h, limits l = {});
  ~simple_http_server();
  simple_http_server(const simple_http_server&) = delete;
  simple_http_server& operator=(const simple_http_server&) = delete;

  // Binds and starts the thread; false with `error` when the port can't be bound.
  bool start(const std::string& address, uint16_t port, std::string& error);
  void stop();

 private:
  class session;

  std::string name_;
  handler handler_;
  limits limits_;
  uint32_t open_ = 0;  // sessions (loop thread)
  event_loop loop_;
  std::unique_ptr<listening_socket> listener_;
  std::thread thread_;
};

}  // namespace am::net
