#include "net/resolver.h"

#include <netdb.h>
#include <sys/socket.h>

#include <cstring>

namespace am::net {

resolver::~resolver() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
}

void resolver::resolve(std::string host, uint16_t port, callback cb) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    jobs_.push_back({std::move(host), port, std::move(cb)});
    if (!thread_.joinable()) {
      thread_ = std::thread{[this] { run(); }};
    }
  }
  cv_.notify_one();
}

void resolver::run() {
  for (;;) {
    job j;
    {
      std::unique_lock<std::mutex> lock{mutex_};
      cv_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
      if (stopping_) {
        return;
      }
      j = std::move(jobs_.front());
      jobs_.pop_front();
    }
    addrinfo hints{};
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* result = nullptr;
    int rc = getaddrinfo(j.host.c_str(), nullptr, &hints, &result);
    sockaddr_in address{};
    std::string error;
    if (rc == 0 && result != nullptr) {
      std::memcpy(&address, result->ai_addr, sizeof address);
      address.sin_port = htons(j.port);
    } else {
      error = gai_strerror(rc);
    }
    if (result != nullptr) {
      freeaddrinfo(result);
    }
    loop_.post([cb = std::move(j.cb), ok = rc == 0, address, error] { cb(ok, address, error); });
  }
}

}  // namespace am::net
