// A listening socket on an event loop. It accepts every pending connection on each readiness
// event; when accept() fails for want of descriptors or memory (EMFILE, ENFILE, ENOBUFS,
// ENOMEM) the socket stays readable, so instead of spinning and flooding the log it stops
// polling for a while (the loop keeps serving the open connections) and tries again.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

#include "net/event_loop.h"
#include "net/timer_wheel.h"

namespace am::net {

class listening_socket final : public io_handler {
 public:
  static constexpr int64_t backoff_ms = 100;

  // `on_client` takes each accepted (non-blocking) descriptor. `name` goes into log lines;
  // `accept_errors` (optional) counts the failures that paused the socket.
  listening_socket(event_loop& loop, int fd, std::string name, std::function<void(int)> on_client,
                   std::atomic<uint64_t>* accept_errors = nullptr);
  ~listening_socket() override;
  listening_socket(const listening_socket&) = delete;
  listening_socket& operator=(const listening_socket&) = delete;

  void on_io(uint32_t) override;

 private:
  static void on_backoff_timer(void* self);

  event_loop& loop_;
  int fd_;
  std::string name_;
  std::function<void(int)> on_client_;
  std::atomic<uint64_t>* accept_errors_;
  timer backoff_timer_;
  bool paused_ = false;
  int64_t last_log_ms_ = -1'000'000;
};

}  // namespace am::net
