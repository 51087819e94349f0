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
  // `preread`: the bytes already read from the socket (the preface, maybe more).
  h2_downstream_connection(proxy_worker& worker, int fd, listener_side side,
                           std::string_view preread);
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

  // -- connection --
  void on_data() override;
  void on_eof(int error) override;
  void on_drained() override;
  void on_closed() override;
  void produce_output() override;

  stream* find(int32_t id);
  void open_stream(int32_t id, std::span<h2_field> fields, bool end_stream);
  void resume_paused_streams();
  void update_idle();
  void finish_if_done();
  static void on_idle_timer(void* self);

  proxy_worker& worker_;
  listener_side side_;
  std::string client_ip_;
  h2_session session_;
  stream_table<stream> streams_;
  std::vector<int32_t> paused_;         // streams whose upstream waits for the response to drain
  std::vector<int32_t> pending_heads_;  // streams whose final head goes out with this batch
  timer idle_timer_;
  bool draining_ = false;
  bool close_when_flushed_ = false;
};

}  // namespace am::net
