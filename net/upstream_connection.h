// One HTTP/1.1 connection to an upstream endpoint. It carries one request/response exchange
// at a time for an owner (the downstream stream it serves) and goes back to its pool when the
// exchange ends cleanly. The owner interface is per stream, so an HTTP/2 downstream can own
// many of these at once.
#pragma once

#include <string>
#include <string_view>

#include "net/connection.h"
#include "net/http1_parser.h"
#include "net/proxy_error.h"
#include "net/timer_wheel.h"
#include "net/traffic_stats.h"

namespace am::net {

class upstream_pool;
class upstream_connection;

// What an upstream connection reports to the stream it serves.
class upstream_events {
 public:
  virtual void on_upstream_head(message_head& head) = 0;
  virtual void on_upstream_body(const char* data, size_t size) = 0;
  // Trailers (HTTP/2 upstreams: a gRPC call's status), just before on_upstream_complete().
  virtual void on_upstream_trailers(message_head& trailers) = 0;
  virtual void on_upstream_complete() = 0;
  // The exchange failed. `retryable` is true when nothing reached the upstream's application
  // for sure (a reused keep-alive connection closed before any response byte).
  virtual void on_upstream_error(proxy_error e, const std::string& detail, bool retryable) = 0;
  // The upstream took all the request bytes queued so far.
  virtual void on_upstream_drained() = 0;
  // The upstream answered 101 and switched protocols; the owner takes the connection over
  // (detach_fd()) to tunnel it.
  virtual void on_upstream_switched(upstream_connection& c) = 0;

 protected:
  ~upstream_events() = default;
};

// One exchange's way to its upstream: an HTTP/1.1 connection (one exchange at a time) or a
// stream of an HTTP/2 connection. The request head went with opening it.
class upstream_channel {
 public:
  // Request body bytes, as received (the channel frames them).
  virtual void send_body(const char* data, size_t size) = 0;
  virtual void finish_request() = 0;
  // Ends the owner's use: a complete exchange leaves the connection reusable; an incomplete
  // one closes it (HTTP/1.1) or resets the stream (HTTP/2). The owner gets no more events.
  virtual void release() = 0;
  // Stops or restarts taking response bytes (the downstream is backlogged).
  virtual void pause_response(bool paused) = 0;
  // Whether request bytes wait for the upstream (the downstream should stop reading).
  virtual bool request_backlogged() const = 0;

 protected:
  ~upstream_channel() = default;
};

class upstream_connection final : public connection,
                                  public upstream_channel,
                                  private http1_parser::sink {
 public:
  // `stats` (may be null) is the service whose connection and pending gauges it counts in;
  // `tls`: the session over which it speaks (an endpoint labelled `tls: mesh`).
  upstream_connection(event_loop& loop, int fd, upstream_pool& pool, std::string key,
                      size_t max_header_bytes, traffic_stats* stats,
                      std::unique_ptr<tls_stream> tls = {});
  ~upstream_connection() override;

  const std::string& key() const { return key_; }
  bool reused() const { return reused_; }

  // Begins an exchange: queues the request head; body bytes follow via send_body().
  // A connection still connecting fails with upstream_connect_failed after
  // `connect_timeout_ms`.
  void start(upstream_events* owner, std::string_view request_head, bool head_request,
             bool chunked_body, int64_t connect_timeout_ms);
  // -- upstream_channel --
  void send_body(const char* data, size_t size) override;
  void finish_request() override;
  // Back to the pool when the exchange completed on a reusable connection, closed otherwise.
  void release() override;
  void pause_response(bool paused) override { pause_reading(paused); }
  bool request_backlogged() const override { return over_high_watermark(); }

  // Marks a pooled connection as idle with an idle deadline.
  void park(int64_t idle_timeout_ms);

  // How long this connection may idle in the pool (0: the pool's default).
  int64_t idle_timeout() const { return idle_timeout_ms_; }
  void set_idle_timeout(int64_t ms) { idle_timeout_ms_ = ms; }

 private:
  bool on_head(message_head& head) override;
  void on_body(const char* data, size_t size) override;
  void on_message_complete() override;

  void on_data() override;
  void on_eof(int error) override;
  void on_drained() override;
  void on_connected(int error) override;
  void on_closed() override;

  void fail(proxy_error e, const std::string& detail);
  void connected();
  void release_gauges();
  static void on_idle_timeout(void* self);
  static void on_connect_timeout(void* self);

  upstream_pool& pool_;
  std::string key_;
  http1_parser parser_;
  upstream_events* owner_ = nullptr;
  timer idle_timer_;
  timer connect_timer_;
  traffic_stats* stats_;
  bool connecting_ = true;
  int64_t idle_timeout_ms_ = 0;
  bool parsing_ = false;
  bool release_pending_ = false;
  bool reused_ = false;
  bool head_request_ = false;
  bool chunked_body_ = false;
  bool request_done_ = false;
  bool response_done_ = false;
  bool got_response_bytes_ = false;
  bool keep_alive_ = true;
};

}  // namespace am::net
