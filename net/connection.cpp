#include "net/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <memory>

#include "net/socket.h"

namespace am::net {

namespace {

constexpr size_t read_chunk = 16 * 1024;
// Bytes read per readiness event before yielding to other connections.
constexpr size_t read_budget = 256 * 1024;

}  // namespace

connection::connection(event_loop& loop, int fd, bool connecting)
    : loop_(loop), fd_(fd), connecting_(connecting) {
  interest_ = connecting ? EPOLLOUT : EPOLLIN;
  loop_.add(fd_, interest_, this);
  loop_.adopt(this);
}

connection::~connection() {
  if (fd_ >= 0) {
    loop_.remove(fd_);
    ::close(fd_);
  }
}

void connection::on_io(uint32_t events) {
  if (closed()) {
    return;  // closed earlier in this batch
  }
  if (connecting_) {
    if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
      connecting_ = false;
      int err = socket_error(fd_);
      if (err == 0) {
        update_interest();
        if (!out_.empty()) {  // what was queued while connecting
          flush_queued_ = true;
          loop_.flush_later(this);
        }
      }
      on_connected(err);
    }
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    handle_read();
  }
  if (!closed() && (events & EPOLLOUT)) {
    handle_write();
  }
}

void connection::handle_read() {
  size_t total = 0;
  while (!closed() && !read_paused_ && total < read_budget) {
    char* p = in_.reserve_back(read_chunk);
    auto n = ::recv(fd_, p, read_chunk, 0);
    if (n > 0) {
      in_.commit(static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      on_data();
      if (static_cast<size_t>(n) < read_chunk) {
        break;
      }
    } else if (n == 0) {
      on_eof(0);
      return;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      break;
    } else if (errno != EINTR) {
      on_eof(errno);
      return;
    }
  }
}

void connection::handle_write() {
  while (!out_.empty()) {
    auto n = ::send(fd_, out_.data(), out_.size(), MSG_NOSIGNAL);
    if (n > 0) {
      out_.consume(static_cast<size_t>(n));
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      on_eof(errno);
      return;
    }
  }
  update_interest();
  if (out_.empty()) {
    on_drained();
  }
}

void connection::send(std::string_view data) {
  if (closed() || data.empty()) {
    return;
  }
  out_.append(data);
  if (!flush_queued_ && !connecting_) {
    flush_queued_ = true;
    loop_.flush_later(this);
  }
}

void connection::request_output() {
  if (!flush_queued_ && !connecting_ && !closed()) {
    flush_queued_ = true;
    loop_.flush_later(this);
  }
}

void connection::on_flush() {
  flush_queued_ = false;
  if (!closed() && !connecting_) {
    produce_output();
  }
  if (!closed() && !connecting_ && !out_.empty()) {
    handle_write();
  }
}

void connection::pause_reading(bool paused) {
  if (read_paused_ != paused) {
    read_paused_ = paused;
    update_interest();
  }
}

void connection::update_interest() {
  if (closed() || connecting_) {
    return;
  }
  uint32_t want = (read_paused_ ? 0u : EPOLLIN) | (out_.empty() ? 0u : EPOLLOUT);
  if (want != interest_) {
    interest_ = want;
    loop_.modify(fd_, want, this);
  }
}

void connection::close() {
  if (closed()) {
    return;
  }
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
  on_closed();
  loop_.retire(this);
}

void connection::shutdown_write() {
  if (!closed()) {
    ::shutdown(fd_, SHUT_WR);
  }
}

int connection::detach_fd(std::string& unread, std::string& unsent) {
  if (closed()) {
    return -1;
  }
  unread.assign(in_.data(), in_.size());
  unsent.assign(out_.data(), out_.size());
  in_.clear();
  out_.clear();
  int fd = fd_;
  loop_.remove(fd_);
  fd_ = -1;
  on_closed();
  loop_.retire(this);
  return fd;
}

}  // namespace am::net
