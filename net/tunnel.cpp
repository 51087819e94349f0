#include "net/tunnel.h"

#include <utility>

namespace am::net {

tunnel_end::tunnel_end(event_loop& loop, int fd, bool connecting, tunnel_connect_events* waiter)
    : connection(loop, fd, connecting), waiter_(waiter) {}

tunnel_end::tunnel_end(event_loop& loop, detached_socket socket)
    : connection(loop, socket.fd, false, std::move(socket.tls)), waiter_(nullptr) {
  send(socket.unsent);
  preload_input(socket.unread);
}

void tunnel_end::join(tunnel_end& a, tunnel_end& b) {
  a.peer_ = &b;
  b.peer_ = &a;
  a.on_data();
  b.on_data();
}

void tunnel_end::on_data() {
  if (peer_ == nullptr || in_.empty()) {
    return;
  }
  peer_->send({in_.data(), in_.size()});
  in_.clear();
  if (peer_ != nullptr && peer_->over_high_watermark()) {
    pause_reading(true);
  }
}

void tunnel_end::on_drained() {
  if (closing_) {
    close();
    return;
  }
  if (peer_ != nullptr) {
    peer_->pause_reading(false);
  }
}

void tunnel_end::close_when_flushed() {
  closing_ = true;
  if (pending_output() == 0) {
    close();
  }
}

void tunnel_end::on_eof(int) {
  close();
}

void tunnel_end::on_connected(int error) {
  auto* waiter = waiter_;
  waiter_ = nullptr;
  if (waiter != nullptr) {
    waiter->on_tunnel_connected(*this, error);
  }
  if (error != 0) {
    close();
  }
}

void tunnel_end::watch(tunnel_watcher* w) {
  watcher_ = w;
  w->on_tunnel_opened();
}

void tunnel_end::on_closed() {
  if (watcher_ != nullptr) {
    std::exchange(watcher_, nullptr)->on_tunnel_closed();
  }
  if (peer_ != nullptr) {
    auto* peer = peer_;
    peer_ = nullptr;
    peer->peer_ = nullptr;
    peer->close_when_flushed();
  }
}

}  // namespace am::net
