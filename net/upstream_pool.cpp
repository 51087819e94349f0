#include "net/upstream_pool.h"

#include <algorithm>

#include "net/h2_upstream_connection.h"
#include "net/socket.h"
#include "net/upstream_connection.h"

namespace am::net {

upstream_pool::upstream_pool(event_loop& loop, proxy_stats& stats, size_t max_header_bytes,
                             int64_t idle_timeout_ms)
    : loop_(loop),
      stats_(stats),
      max_header_bytes_(max_header_bytes),
      idle_timeout_ms_(idle_timeout_ms) {}

upstream_pool::~upstream_pool() {
  close_idle();
}

upstream_connection* upstream_pool::acquire(const sockaddr_in& address, const std::string& key,
                                            const limits& l, acquire_error& why,
                                            std::string& error) {
  why = acquire_error::none;
  auto i = idle_.find(key);
  // Not one of another kind: an endpoint whose `tls` label changed (those left age out).
  if (i != idle_.end() && !i->second.empty() && i->second.back()->over_tls() == l.tls) {
    auto* c = i->second.back();
    i->second.pop_back();
    stats_.upstream_connections_reused.fetch_add(1, std::memory_order_relaxed);
    return c;
  }
  std::unique_ptr<tls_stream> tls;
  int fd = open_socket(address, l, "http/1.1", tls, why, error);
  if (fd < 0) {
    return nullptr;
  }
  auto* c =
      new upstream_connection(loop_, fd, *this, key, max_header_bytes_, l.stats, std::move(tls));
  c->set_idle_timeout(l.idle_timeout_ms);
  return c;
}

int upstream_pool::open_socket(const sockaddr_in& address, const limits& l, std::string_view alpn,
                               std::unique_ptr<tls_stream>& tls, acquire_error& why,
                               std::string& error) {
  if (l.tls && tls_ == nullptr) {
    why = acquire_error::socket;
    error = "the endpoint asks for mesh TLS (tls: mesh) and this sidecar has no certificate (tls)";
    return -1;
  }
  if (l.stats != nullptr) {
    if (l.max_connections > 0 &&
        l.stats->upstream_connections.load(std::memory_order_relaxed) >= l.max_connections) {
      why = acquire_error::max_connections;
      error = "max_connections " + std::to_string(l.max_connections) + " reached";
      return -1;
    }
    if (l.max_pending > 0 && l.stats->pending.load(std::memory_order_relaxed) >= l.max_pending) {
      why = acquire_error::max_pending;
      error = "max_pending " + std::to_string(l.max_pending) + " reached";
      return -1;
    }
  }
  int fd = connect_tcp(address, error);
  if (fd < 0) {
    why = acquire_error::socket;
    return -1;
  }
  stats_.upstream_connections_opened.fetch_add(1, std::memory_order_relaxed);
  if (l.tls) {
    tls = tls_->open(fd, alpn);
  }
  return fd;
}

h2_upstream_connection* upstream_pool::acquire_h2(const sockaddr_in& address,
                                                  const std::string& key, const limits& l,
                                                  int64_t connect_timeout_ms, acquire_error& why,
                                                  std::string& error) {
  why = acquire_error::none;
  auto& conns = h2_[key];
  uint32_t learned = 0;
  for (auto* c : conns) {
    if (c->has_room() && c->over_tls() == l.tls) {
      stats_.upstream_connections_reused.fetch_add(1, std::memory_order_relaxed);
      return c;
    }
    learned = std::max(learned, c->learned_stream_limit());
  }
  auto& assumed = h2_stream_limits_[key];
  if (learned != 0) {
    assumed = learned;
  }
  std::unique_ptr<tls_stream> tls;
  int fd = open_socket(address, l, "h2", tls, why, error);
  if (fd < 0) {
    return nullptr;
  }
  auto idle = l.idle_timeout_ms > 0 ? l.idle_timeout_ms : idle_timeout_ms_;
  auto* c = new h2_upstream_connection(loop_, fd, *this, key, l.stats, idle, connect_timeout_ms,
                                       assumed != 0 ? assumed : 100, std::move(tls));
  conns.push_back(c);
  return c;
}

void upstream_pool::forget(h2_upstream_connection* c) {
  auto i = h2_.find(c->key());
  if (i != h2_.end()) {
    auto& v = i->second;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
  }
}

void upstream_pool::give_back(upstream_connection* c) {
  c->park(c->idle_timeout() > 0 ? c->idle_timeout() : idle_timeout_ms_);
  idle_[c->key()].push_back(c);
}

void upstream_pool::forget(upstream_connection* c) {
  auto i = idle_.find(c->key());
  if (i != idle_.end()) {
    auto& v = i->second;
    v.erase(std::remove(v.begin(), v.end(), c), v.end());
  }
}

void upstream_pool::close_idle() {
  auto idle = std::move(idle_);
  idle_.clear();
  for (auto& [key, conns] : idle) {
    for (auto* c : conns) {
      c->close();
    }
  }
}

size_t upstream_pool::idle_count() const {
  size_t n = 0;
  for (const auto& [key, conns] : idle_) {
    n += conns.size();
  }
  return n;
}

}  // namespace am::net
