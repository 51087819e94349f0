// Connections to upstream endpoints, per worker and per endpoint. HTTP/1.1: acquire() hands
// out an idle keep-alive connection (most recently used first, so surplus ones age out) or
// opens one. HTTP/2: acquire_h2() hands out a connection with room for one more stream, or
// opens one.
#pragma once

#include <netinet/in.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "net/event_loop.h"
#include "net/routing_snapshot.h"
#include "net/tls.h"
#include "net/traffic_stats.h"

namespace am::net {

class upstream_connection;
class h2_upstream_connection;

class upstream_pool {
 public:
  size_t max_header_bytes() const { return max_header_bytes_; }
  upstream_pool(event_loop& loop, proxy_stats& stats, size_t max_header_bytes,
                int64_t idle_timeout_ms);
  ~upstream_pool();
  upstream_pool(const upstream_pool&) = delete;
  upstream_pool& operator=(const upstream_pool&) = delete;

  // Concurrency limits a new connection must respect (0: none), the counters of the service it
  // serves (null: not a mesh service), and how it is made.
  struct limits {
    traffic_stats* stats = nullptr;
    uint32_t max_connections = 0;
    uint32_t max_pending = 0;
    int64_t idle_timeout_ms = 0;  // for a new connection; 0: the pool's default
    bool tls = false;             // over mesh TLS (an endpoint labelled `tls: mesh`)
  };

  // The sidecar's certificate for endpoints that ask for mesh TLS (null: it has none, and
  // connections to them fail saying so).
  void use_tls(const tls_context* client) { tls_ = client; }

  enum class acquire_error { none, socket, max_connections, max_pending };

  // A connection to `address`: an idle one, or a new one within `l`. Null with `why` and
  // `error` set otherwise.
  upstream_connection* acquire(const sockaddr_in& address, const std::string& key, const limits& l,
                               acquire_error& why, std::string& error);

  // An HTTP/2 connection to `address` below its stream limit, or a new one within `l`.
  h2_upstream_connection* acquire_h2(const sockaddr_in& address, const std::string& key,
                                     const limits& l, int64_t connect_timeout_ms,
                                     acquire_error& why, std::string& error);

  // Called by a connection whose exchange ended cleanly and that may be reused.
  void give_back(upstream_connection* c);

  // Called by a connection as it closes, so the pool forgets it.
  void forget(upstream_connection* c);
  void forget(h2_upstream_connection* c);

  // Closes every idle connection (drain, shutdown); HTTP/2 connections close once their
  // streams end.
  void close_idle();

  size_t idle_count() const;

 private:
  // A connecting socket for a new connection within `l` (-1 with `why` and `error`), with
  // its TLS session offering `alpn` when `l` asks for TLS.
  int open_socket(const sockaddr_in& address, const limits& l, std::string_view alpn,
                  std::unique_ptr<tls_stream>& tls, acquire_error& why, std::string& error);

  event_loop& loop_;
  proxy_stats& stats_;
  const tls_context* tls_ = nullptr;
  size_t max_header_bytes_;
  int64_t idle_timeout_ms_;
  std::unordered_map<std::string, std::vector<upstream_connection*>, string_hash, std::equal_to<>>
      idle_;
  std::unordered_map<std::string, std::vector<h2_upstream_connection*>, string_hash,
                     std::equal_to<>>
      h2_;
  // The stream limit each endpoint's SETTINGS announced, for its next connections.
  std::unordered_map<std::string, uint32_t, string_hash, std::equal_to<>> h2_stream_limits_;
};

}  // namespace am::net
