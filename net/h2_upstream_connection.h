// One HTTP/2 (prior knowledge) connection to an upstream endpoint, carrying many exchanges at
// once, each on its own stream (an upstream_channel). The pool opens another connection when
// this one reaches the peer's MAX_CONCURRENT_STREAMS or was told GOAWAY.
//
// Flow control is end to end: response DATA opens the upstream's window again only once the
// owner took it and is not paused (its client is not backlogged).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/h2_session.h"
#include "net/stream_table.h"
#include "net/timer_wheel.h"
#include "net/traffic_stats.h"
#include "net/upstream_connection.h"

namespace am::net {

class upstream_pool;

class h2_upstream_connection final : public connection, private h2_events {
 public:
  // More streams than this never share a connection, whatever the peer allows.
  static constexpr uint32_t max_streams = 256;

  // `assumed_streams`: the stream limit to respect until the peer's SETTINGS say (what an
  // earlier connection to the same endpoint learned, else HTTP/2's customary 100).
  h2_upstream_connection(event_loop& loop, int fd, upstream_pool& pool, std::string key,
                         traffic_stats* stats, int64_t idle_timeout_ms, int64_t connect_timeout_ms,
                         uint32_t assumed_streams, std::unique_ptr<tls_stream> tls = {});
  ~h2_upstream_connection() override;

  const std::string& key() const { return key_; }

  // Whether a new stream may open here now.
  bool has_room() const;
  // The peer's stream limit, once its SETTINGS arrived (0 before).
  uint32_t learned_stream_limit() const;

  // Opens a stream with the request's header block (`end_stream`: it has no body). Null when
  // the session can't open one.
  upstream_channel* open_stream(upstream_events* owner, std::span<const h2_field> headers,
                                bool end_stream);

 private:
  class stream;

  // -- h2_events --
  void on_h2_headers(int32_t id, std::span<h2_field> fields, bool end_stream) override;
  void on_h2_data(int32_t id, const char* data, size_t size) override;
  void on_h2_end(int32_t id) override;
  void on_h2_closed(int32_t id, uint32_t error_code) override;
  void on_h2_goaway(int32_t last_stream, uint32_t error_code) override;

  // -- connection --
  void on_data() override;
  void on_eof(int error) override;
  void on_drained() override;
  void on_connected(int error) override;
  void on_closed() override;
  void produce_output() override;

  stream* find(int32_t id);
  void fail_all(proxy_error e, const std::string& detail);
  void forget(stream& s);
  void update_idle();
  void connected();
  static void on_idle_timeout(void* self);
  static void on_connect_timeout(void* self);

  upstream_pool& pool_;
  std::string key_;
  traffic_stats* stats_;
  h2_session session_;
  stream_table<stream> streams_;
  timer idle_timer_;
  timer connect_timer_;
  int64_t idle_timeout_ms_;
  uint32_t assumed_streams_;
  bool connecting_ = true;
  bool heard_from_peer_ = false;  // any byte; a server's first is its SETTINGS preface
  bool goaway_ = false;
  int32_t goaway_last_stream_ = 0;
};

}  // namespace am::net
