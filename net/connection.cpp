#include "net/connection.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "net/socket.h"

namespace am::net {

namespace {

constexpr size_t read_chunk = 16 * 1024;
// Bytes read per readiness event before yielding to other connections.
constexpr size_t read_budget = 256 * 1024;

}  // namespace

connection::connection(event_loop& loop, int fd, bool connecting, std::unique_ptr<tls_stream> tls)
    : loop_(loop), fd_(fd), connecting_(connecting), outgoing_(connecting), tls_(std::move(tls)) {
  handshaking_ = tls_ != nullptr && !tls_->established();
  interest_ = connecting ? EPOLLOUT : EPOLLIN;
  loop_.add(fd_, interest_, this);
  loop_.adopt(this);
  if (tls_ && !handshaking_ && tls_->has_pending()) {
    read_again_ = true;  // a session handed over with bytes its last owner did not read
    request_output();
  }
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
      if (err == 0 && handshaking_) {
        continue_handshake();
      } else {
        handshaking_ = false;
        established(err);
      }
    }
    return;
  }
  if (handshaking_) {
    continue_handshake();
    return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    handle_read();
  }
  if (!closed() && (events & EPOLLOUT)) {
    handle_write();
  }
}

void connection::established(int error) {
  if (error == 0) {
    update_interest();
    request_output();  // what was queued meanwhile, and a codec's first frames
  }
  on_connected(error);
}

void connection::continue_handshake() {
  switch (tls_->handshake()) {
    case tls_stream::status::done:
      handshaking_ = false;
      established(0);
      if (!closed() && tls_->has_pending()) {
        handle_read();  // bytes that came with the handshake's last flight
      }
      return;
    case tls_stream::status::want_read:
      set_interest(EPOLLIN);
      return;
    case tls_stream::status::want_write:
      set_interest(EPOLLOUT);
      return;
    case tls_stream::status::closed:  // the peer left first (a health check's connect, say)
      handshaking_ = false;
      if (outgoing_) {
        on_connected(ECONNRESET);
      } else {
        on_eof(0);
      }
      return;
    default:
      handshaking_ = false;
      if (outgoing_) {
        on_connected(tls_failure);
      } else {
        on_eof(tls_failure);
      }
  }
}

ssize_t connection::receive(char* data, size_t size) {
  if (!tls_) {
    return ::recv(fd_, data, size, 0);
  }
  size_t moved = 0;
  switch (tls_->read(data, size, moved)) {
    case tls_stream::status::done:
      return static_cast<ssize_t>(moved);
    case tls_stream::status::closed:
      return 0;
    case tls_stream::status::want_read:
    case tls_stream::status::want_write:  // a key update's answer: the socket is full
      errno = EAGAIN;
      return -1;
    default:
      errno = tls_failure;
      return -1;
  }
}

ssize_t connection::transmit(const char* data, size_t size) {
  if (!tls_) {
    return ::send(fd_, data, size, MSG_NOSIGNAL);
  }
  size_t moved = 0;
  switch (tls_->write(data, size, moved)) {
    case tls_stream::status::done:
      return static_cast<ssize_t>(moved);
    case tls_stream::status::want_read:
    case tls_stream::status::want_write:
      errno = EAGAIN;
      return -1;
    case tls_stream::status::closed:
      errno = EPIPE;
      return -1;
    default:
      errno = tls_failure;
      return -1;
  }
}

void connection::handle_read() {
  size_t total = 0;
  while (!closed() && !read_paused_) {
    if (total >= read_budget) {
      if (tls_ && tls_->has_pending()) {
        read_again_ = true;  // the socket will not announce these bytes again
        request_output();
      }
      return;
    }
    char* p = in_.reserve_back(read_chunk);
    auto n = receive(p, read_chunk);
    if (n > 0) {
      in_.commit(static_cast<size_t>(n));
      total += static_cast<size_t>(n);
      on_data();
      // A short read emptied the socket; TLS hands out one record at a time, so it reads on.
      if (!tls_ && static_cast<size_t>(n) < read_chunk) {
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
    auto n = transmit(out_.data(), out_.size());
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

void connection::on_written(ssize_t result) {
  write_queued_ = false;
  if (closed()) {
    return;
  }
  if (result > 0) {
    out_.consume(static_cast<size_t>(result));
  } else if (result != -EAGAIN && result != -EWOULDBLOCK && result != -EINTR) {
    on_eof(static_cast<int>(-result));
    return;
  }
  handle_write();  // what a partial write left, or EPOLLOUT; on_drained() once all is out
}

void connection::send(std::string_view data) {
  if (closed() || data.empty()) {
    return;
  }
  submit_queued_write();
  out_.append(data);
  request_output();
}

void connection::request_output() {
  if (!flush_queued_ && ready() && !closed()) {
    flush_queued_ = true;
    loop_.flush_later(this);
  }
}

void connection::on_flush() {
  flush_queued_ = false;
  submit_queued_write();
  if (closed() || !ready()) {
    return;
  }
  if (read_again_) {
    read_again_ = false;
    handle_read();
  }
  if (!closed()) {
    produce_output();
  }
  if (!closed() && !out_.empty()) {
    if (tls_) {
      handle_write();  // TLS writes records of its own: not through the batch
    } else {
      write_queued_ = true;
      loop_.write_later(fd_, out_.data(), out_.size(), this);
    }
  }
}

void connection::pause_reading(bool paused) {
  if (read_paused_ != paused) {
    read_paused_ = paused;
    update_interest();
    if (!paused && tls_ && ready() && tls_->has_pending()) {
      read_again_ = true;  // read before the pause, held inside TLS
      request_output();
    }
  }
}

void connection::update_interest() {
  if (closed() || !ready()) {
    return;
  }
  // A queued write is the batch's to send: EPOLLOUT only for what a write left behind.
  set_interest((read_paused_ ? 0u : EPOLLIN) | (out_.empty() || write_queued_ ? 0u : EPOLLOUT));
}

void connection::set_interest(uint32_t want) {
  if (want != interest_) {
    interest_ = want;
    loop_.modify(fd_, want, this);
  }
}

std::string connection::describe(int error) const {
  if (error == tls_failure && tls_ && !tls_->error().empty()) {
    return "TLS: " + tls_->error();
  }
  return std::strerror(error);
}

void connection::close() {
  submit_queued_write();  // the bytes queued go before the FIN
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
  submit_queued_write();
  if (!closed()) {
    if (tls_ && ready()) {
      tls_->close_notify();
    }
    ::shutdown(fd_, SHUT_WR);
  }
}

detached_socket connection::detach() {
  submit_queued_write();
  detached_socket out;
  if (closed()) {
    return out;
  }
  out.fd = fd_;
  out.tls = std::move(tls_);
  out.unread.assign(in_.data(), in_.size());
  out.unsent.assign(out_.data(), out_.size());
  in_.clear();
  out_.clear();
  loop_.remove(fd_);
  fd_ = -1;
  on_closed();
  loop_.retire(this);
  return out;
}

}  // namespace am::net
