// A mirrored (shadow) copy of a request: sent to an endpoint of the route's mirror subset,
// its response read and dropped. It never affects the caller: the original exchange neither
// waits for it nor sees its errors. Owned by the worker, which frees it when it ends.
#pragma once

#include "net/timer_wheel.h"
#include "net/upstream_connection.h"

namespace am::net {

class proxy_worker;

class mirror_exchange final : public upstream_events {
 public:
  static constexpr int64_t timeout_ms = 10'000;

  mirror_exchange(proxy_worker& worker, upstream_connection& upstream);
  virtual ~mirror_exchange();

 private:
  void on_upstream_head(message_head&) override {}
  void on_upstream_body(const char*, size_t) override {}
  void on_upstream_trailers(message_head&) override {}
  void on_upstream_complete() override;
  void on_upstream_error(proxy_error, const std::string&, bool) override;
  void on_upstream_drained() override {}
  void on_upstream_switched(upstream_connection& c) override;
  static void on_timeout(void* self);
  void end();

  proxy_worker& worker_;
  upstream_connection* upstream_;
  timer timer_;
};

}  // namespace am::net
