// A client connection speaking HTTP/2 (prior knowledge: h2c on an `auto` or `http2`
// listener, or inside a CONNECT to a mesh service). Each stream is one exchange, routed and
// policed like an HTTP/1.1 request; its response goes back on the stream, trailers included,
// and errors the sidecar produces for gRPC calls are gRPC statuses.
//
// Flow control is end to end: request DATA opens the client's window again only once the
// exchange's upstream took it; a stream whose response backs up pauses its upstream.
// A drain sends GOAWAY and closes once the open streams finish.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "net/connection.h"
#include "net/downstream.h"
#include "net/exchange.h"
#include "net/h2_session.h"
#include "net/stream_table.h"
#include "net/timer_wheel.h"

namespace am::net {

class proxy_worker;

class h2_downstream_connection final : public connection, public downstream, private h2_events {
 public:
  // A socket from the listener (`tls`: the listener's session for it).
  h2_downstream_connection(proxy_worker& worker, int fd, listener_side side,
                           std::unique_ptr<tls_stream> tls = {});
  // A socket an HTTP/1.1 connection read the preface from (its unread bytes are handled
  // first); `origin`: where the client is (and, intercepted, where its streams go).
  h2_downstream_connection(proxy_worker& worker, detached_socket socket, listener_side side,
                           const client_origin* origin);
  ~h2_downstream_connection() override;

  void drain() override;

 private:
  class stream;

  // -- h2_events --
  void on_h2_headers(int32_t id, std::span<h2_field> fields, bool end_stream) override;
  void on_h2_data(int32_t id, const char* data, size_t size) override;
  void on_h2_end(int32_t id) override;
  void on_h2_closed(int32_t id, uint32_t error_code) override;
  void on_h2_goaway(int32_t last_stream, uint32_t error_code) override;
  void on_h2_headers_too_large(int32_t stream, bool end_stream) override;
  void on_h2_flood(const char* what) override;

  // -- connection --
  void on_data() override;
  void on_eof(int error) override;
  void on_drained() override;
  void on_closed() override;
  void produce_output() override;

  stream* find(int32_t id);
  void open_stream(int32_t id, std::span<h2_field> fields, bool end_stream);
  void count_premature_reset();
  void calm_down();
  void close_after_flush();
  void resume_paused_streams();
  void update_idle();
  void finish_if_done();
  static void on_idle_timer(void* self);

  proxy_worker& worker_;
  listener_side side_;
  client_origin origin_;
  h2_session session_;
  stream_table<stream> streams_;
  std::vector<int32_t> paused_;         // streams whose upstream waits for the response to drain
  std::vector<int32_t> pending_heads_;  // streams whose final head goes out with this batch
  timer idle_timer_;
  // Rapid reset (CVE-2023-44487): streams opened, and those the client reset within a
  // second, before their response ended; most of many being such ends the connection.
  uint64_t streams_opened_ = 0;
  uint64_t premature_resets_ = 0;
  bool draining_ = false;
  bool close_when_flushed_ = false;
  // After the last frame (a GOAWAY): half-closed, discarding what the client still sends
  // until it closes or the idle timer fires. Closing at once with unread input would send
  // RST, and the client would lose the GOAWAY saying why.
  bool lingering_ = false;
};

}  // namespace am::net
