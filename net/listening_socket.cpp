#include "net/listening_socket.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <utility>

namespace am::net {

namespace {

constexpr int max_accepts_per_event = 64;  // then the loop serves other sockets
constexpr int64_t log_interval_ms = 5000;

bool out_of_resources(int error) {
  return error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM;
}

}  // namespace

listening_socket::listening_socket(event_loop& loop, int fd, std::string name,
                                   std::function<void(int)> on_client,
                                   std::atomic<uint64_t>* accept_errors)
    : loop_(loop),
      fd_(fd),
      name_(std::move(name)),
      on_client_(std::move(on_client)),
      accept_errors_(accept_errors),
      backoff_timer_(&listening_socket::on_backoff_timer, this) {
  loop_.add(fd_, EPOLLIN, this);
}

listening_socket::~listening_socket() {
  loop_.cancel(backoff_timer_);
  if (!paused_) {
    loop_.remove(fd_);
  }
  ::close(fd_);
}

void listening_socket::on_io(uint32_t) {
  for (int i = 0; i < max_accepts_per_event; ++i) {
    int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      on_client_(fd);
      continue;
    }
    int error = errno;
    if (!out_of_resources(error)) {
      if (error != EAGAIN && error != EWOULDBLOCK && error != EINTR && error != ECONNABORTED) {
        std::fprintf(stderr, "actormesh: %s: accept: %s\n", name_.c_str(), std::strerror(error));
      }
      return;
    }
    if (accept_errors_ != nullptr) {
      accept_errors_->fetch_add(1, std::memory_order_relaxed);
    }
    if (loop_.now_ms() - last_log_ms_ >= log_interval_ms) {
      last_log_ms_ = loop_.now_ms();
      std::fprintf(stderr,
                   "actormesh: %s: accept: %s; not accepting for %lld ms (open connections "
                   "are still served; logged once per %lld s)\n",
                   name_.c_str(), std::strerror(error), static_cast<long long>(backoff_ms),
                   static_cast<long long>(log_interval_ms / 1000));
    }
    paused_ = true;
    loop_.remove(fd_);
    loop_.schedule(backoff_timer_, backoff_ms);
    return;
  }
}

void listening_socket::on_backoff_timer(void* p) {
  auto* self = static_cast<listening_socket*>(p);
  self->paused_ = false;
  self->loop_.add(self->fd_, EPOLLIN, self);
}

}  // namespace am::net
