// Name resolution off the event loop: getaddrinfo() blocks, so it runs on a helper thread and
// the answer is posted back to the loop. Started on first use; numeric hosts never get here.
#pragma once

#include <netinet/in.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "net/event_loop.h"

namespace am::net {

class resolver {
 public:
  // Called on the loop thread: `ok` false with `error` text when the name did not resolve.
  using callback =
      std::function<void(bool ok, const sockaddr_in& address, const std::string& error)>;

  explicit resolver(event_loop& loop) : loop_(loop) {}
  ~resolver();
  resolver(const resolver&) = delete;
  resolver& operator=(const resolver&) = delete;

  void resolve(std::string host, uint16_t port, callback cb);

 private:
  struct job {
    std::string host;
    uint16_t port;
    callback cb;
  };

  void run();

  event_loop& loop_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<job> jobs_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace am::net
