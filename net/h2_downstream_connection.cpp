#include "net/h2_downstream_connection.h"

#include <algorithm>

#include "net/downstream_shared.h"
#include "net/grpc.h"
#include "net/h2_message.h"
#include "net/proxy_worker.h"
#include "net/socket.h"

namespace am::net {

using namespace downstream_detail;

namespace {

constexpr uint32_t refused_stream = 7;
constexpr uint32_t internal_error = 2;
constexpr size_t max_spare_streams = 64;
constexpr uint32_t enhance_your_calm = 0xb;
constexpr int64_t linger_ms = 1000;
// Rapid reset: judged once this many streams were opened (Envoy's
// premature_reset_total_stream_count is 500; each stream here costs an upstream request, and at
// 500 a fixed-rate client's p99 rose 50-fold while they were absorbed, at 100 by 1.4 times),
// a reset within this time of the open is premature.
constexpr uint64_t premature_reset_window = 100;
constexpr int64_t premature_reset_ms = 1000;

h2_session::settings server_settings(const config::sidecar_settings& s) {
  return {1024, 1u << 20, s.max_header_bytes, s.h2_max_empty_frames};
}

// A route's response header operations, with HTTP/2's lower-case names.
void apply_ops(const config::header_ops* ops, h2_field_list& out) {
  if (ops == nullptr) {
    return;
  }
  out.erase_if([ops](const h2_field& f) { return touched_by(ops, f.name); });
  for (const auto& [k, v] : ops->set) {
    auto& f = out.add();
    assign_lower(f.name, k);
    f.value = v;
  }
}

}  // namespace

// One stream: the exchange that serves it, and the response on its way back.
class h2_downstream_connection::stream final : public exchange_client {
 public:
  explicit stream(h2_downstream_connection& c)
      : conn_(c), exchange_(c.worker_, *this, c.side_, c.origin_) {}

  // Ready for a new stream (a stream object and its exchange serve many in turn, keeping
  // their buffers' capacity).
  void reset(int32_t id) {
    id_ = id;
    opened_ms_ = conn_.loop_.now_ms();
    unconsumed_ = 0;
    headers_sent_ = false;
    head_pending_ = false;
    paused_ = false;
  }

  // A final head waits for the end of the event batch: when the response ends in the same
  // batch (a gRPC trailers-only answer), it goes out as one HEADERS frame with END_STREAM.
  void respond_head(const message_head& head, const config::header_ops* ops) override {
    head_fields_.clear();
    head_fields_.add(":status", std::to_string(head.status));
    append_h2_fields(head, head_fields_);
    apply_ops(ops, head_fields_);
    if (head.status < 200) {
      conn_.session_.submit_response(id_, head_fields_.view(), false);  // interim: at once
    } else {
      if (head.has_content_length) {
        head_fields_.add("content-length", std::to_string(head.content_length));
      }
      head_pending_ = true;
      conn_.pending_heads_.push_back(id_);
    }
    conn_.request_output();
  }

  // Sends the final head if it still waits (`end`: the response has nothing more).
  void send_head(bool end) {
    if (head_pending_) {
      head_pending_ = false;
      headers_sent_ = true;
      conn_.session_.submit_response(id_, head_fields_.view(), end);
    }
  }

  void respond_body(const char* data, size_t size) override {
    send_head(false);
    conn_.session_.send_data(id_, {data, size});
    conn_.request_output();
    if (response_backlogged() && !paused_) {
      paused_ = true;  // the exchange pauses its upstream; resumed as the client reads
      conn_.paused_.push_back(id_);
    }
  }

  void respond_end(const message_head* trailers) override {
    fields_.clear();
    if (trailers != nullptr) {
      append_h2_fields(*trailers, fields_);
    }
    if (head_pending_ && fields_.empty()) {
      send_head(true);
    } else {
      send_head(false);
      conn_.session_.end_stream(id_, fields_.view());
    }
    conn_.request_output();
  }

  void respond_error(int status, std::string_view error, const std::string& detail,
                     int grpc_status) override {
    send_head(false);
    fields_.clear();
    if (grpc_status >= 0) {
      // A gRPC error: trailers-only when nothing was sent yet, else the trailers end it.
      if (!headers_sent_) {
        fields_.add(":status", "200");
        fields_.add("content-type", "application/grpc");
      }
      fields_.add("grpc-status", std::to_string(grpc_status));
      auto& message = fields_.add();
      message.name = "grpc-message";
      grpc::append_encoded_message(message.value, std::string{error} + ": " + detail);
      fields_.add("x-actormesh-error", error);
      if (headers_sent_) {
        conn_.session_.end_stream(id_, fields_.view());
      } else {
        conn_.session_.submit_response(id_, fields_.view(), true);
      }
    } else if (headers_sent_) {
      conn_.session_.reset(id_, internal_error);  // the client sees the response cut
    } else {
      std::string body{error};
      body += ": ";
      body += detail;
      body += "\n";
      fields_.add(":status", std::to_string(status));
      fields_.add("content-type", "text/plain");
      fields_.add("content-length", std::to_string(body.size()));
      fields_.add("x-actormesh-error", error);
      conn_.session_.submit_response(id_, fields_.view(), false);
      conn_.session_.send_data(id_, body);
      conn_.session_.end_stream(id_);
    }
    headers_sent_ = true;
    conn_.request_output();
  }

  bool response_backlogged() const override {
    return conn_.session_.buffered(id_) > connection::high_watermark || conn_.over_high_watermark();
  }

  void on_request_drained() override {
    if (unconsumed_ > 0) {
      conn_.session_.consume(id_, unconsumed_);
      unconsumed_ = 0;
      conn_.request_output();
    }
  }

  // Neither CONNECT nor Upgrade reaches an exchange over HTTP/2.
  void on_tunnel_ready(tunnel_end& upstream) override { upstream.close(); }
  void on_upgraded(upstream_connection& upstream) override { upstream.close(); }

  h2_downstream_connection& conn_;
  int32_t id_ = 0;
  int64_t opened_ms_ = 0;
  exchange exchange_;
  message_head head_;
  h2_field_list head_fields_;  // the final response head, until it is sent
  h2_field_list fields_;
  size_t unconsumed_ = 0;  // request bytes the upstream has not taken yet
  bool headers_sent_ = false;
  bool head_pending_ = false;
  bool paused_ = false;
};

h2_downstream_connection::h2_downstream_connection(proxy_worker& worker, int fd, listener_side side,
                                                   std::unique_ptr<tls_stream> tls)
    : h2_downstream_connection(worker, detached_socket{fd, std::move(tls), {}, {}}, side, nullptr) {
}

h2_downstream_connection::h2_downstream_connection(proxy_worker& worker, detached_socket socket,
                                                   listener_side side, const client_origin* origin)
    : connection(worker.loop(), socket.fd, false, std::move(socket.tls)),
      worker_(worker),
      side_(side),
      origin_(origin != nullptr ? *origin : client_origin{peer_ip(socket.fd), false, {}, {}}),
      session_(h2_session::role::server, *this, server_settings(worker.settings())),
      streams_(max_spare_streams),
      idle_timer_(&h2_downstream_connection::on_idle_timer, this) {
  worker_.on_downstream_opened(this, side_);
  update_idle();
  request_output();  // our SETTINGS
  if (!socket.unread.empty()) {
    in_.append(socket.unread);
    on_data();
  }
  if (worker_.draining()) {
    drain();  // born of an HTTP/1.1 connection during a drain
  }
}

h2_downstream_connection::~h2_downstream_connection() = default;

h2_downstream_connection::stream* h2_downstream_connection::find(int32_t id) {
  return streams_.find(id);
}

// -- streams -----------------------------------------------------------------------------------

void h2_downstream_connection::on_h2_headers(int32_t id, std::span<h2_field> fields,
                                             bool end_stream) {
  if (auto* s = find(id)) {
    // Request trailers: forwarded nowhere, but they end the request.
    s->exchange_.request_complete();
    return;
  }
  open_stream(id, fields, end_stream);
}

void h2_downstream_connection::open_stream(int32_t id, std::span<h2_field> fields,
                                           bool end_stream) {
  if (close_when_flushed_) {
    session_.reset(id, refused_stream);  // after our final GOAWAY: the client retries elsewhere
    request_output();
    return;
  }
  loop_.cancel(idle_timer_);
  ++streams_opened_;
  auto& s = streams_.open(id, [this] { return std::make_unique<stream>(*this); });
  s.reset(id);
  std::string error;
  if (!read_h2_head(fields, end_stream, s.head_, error)) {
    s.exchange_.fail(s.head_, proxy_error::bad_request, error);
    return;
  }
  if (s.head_.method == "CONNECT") {
    s.exchange_.fail(s.head_, proxy_error::bad_request, "CONNECT over HTTP/2 is not supported");
    return;
  }
  s.exchange_.start(s.head_);
  if (end_stream && s.exchange_.active()) {
    s.exchange_.request_complete();
  }
}

void h2_downstream_connection::on_h2_data(int32_t id, const char* data, size_t size) {
  auto* s = find(id);
  if (s == nullptr || !s->exchange_.active()) {
    session_.consume(id, size);  // nobody takes it: keep the connection's window open
    return;
  }
  s->exchange_.request_body(data, size);
  if (s->exchange_.request_backlogged()) {
    s->unconsumed_ += size;  // the window reopens when the upstream drains
  } else {
    session_.consume(id, size);
  }
}

void h2_downstream_connection::on_h2_end(int32_t id) {
  if (auto* s = find(id); s != nullptr && s->exchange_.active()) {
    s->exchange_.request_complete();
  }
}

void h2_downstream_connection::on_h2_closed(int32_t id, uint32_t error_code) {
  auto* s = find(id);
  if (s == nullptr) {
    return;
  }
  // Still active: the client reset the stream (a cancelled call); the upstream stops too.
  if (s->exchange_.active() && error_code != 0 &&
      loop_.now_ms() - s->opened_ms_ < premature_reset_ms) {
    count_premature_reset();
  }
  s->exchange_.abandon(error_code != 0 ? "client_cancelled" : "client_closed");
  streams_.close(id);
  update_idle();
  finish_if_done();
}

void h2_downstream_connection::on_h2_goaway(int32_t, uint32_t) {}

// Answered 431 like an HTTP/1.1 head over the limit; the connection's other streams go on.
void h2_downstream_connection::on_h2_headers_too_large(int32_t id, bool) {
  worker_.count(protection_event::header_list_too_large,
                "an HTTP/2 header list from " + origin_.ip + " over max_header_bytes (" +
                    std::to_string(worker_.settings().max_header_bytes) + ")");
  if (find(id) != nullptr) {
    session_.reset(id, internal_error);  // trailers over the limit: the request is cut
    request_output();
    return;
  }
  if (close_when_flushed_) {
    session_.reset(id, refused_stream);
    request_output();
    return;
  }
  loop_.cancel(idle_timer_);
  auto& s = streams_.open(id, [this] { return std::make_unique<stream>(*this); });
  s.reset(id);
  s.head_ = message_head{};
  s.exchange_.fail(
      s.head_, proxy_error::header_too_large,
      "header list over " + std::to_string(worker_.settings().max_header_bytes) + " bytes");
}

void h2_downstream_connection::on_h2_flood(const char* what) {
  worker_.count(protection_event::h2_flood,
                std::string{what} + " from " + origin_.ip + ": GOAWAY ENHANCE_YOUR_CALM");
  close_when_flushed_ = true;  // the session already queued its GOAWAY
}

// Every stream costs an upstream request; a client that resets most of them at once makes
// the sidecar work for nothing (and amplifies onto the upstreams).
void h2_downstream_connection::count_premature_reset() {
  ++premature_resets_;
  if (!close_when_flushed_ && streams_opened_ >= premature_reset_window &&
      premature_resets_ * 2 > streams_opened_) {
    worker_.count(protection_event::h2_premature_resets,
                  std::to_string(premature_resets_) + " of " + std::to_string(streams_opened_) +
                      " streams from " + origin_.ip +
                      " reset before their response: GOAWAY ENHANCE_YOUR_CALM");
    calm_down();
  }
}

void h2_downstream_connection::calm_down() {
  session_.goaway(enhance_your_calm);
  close_when_flushed_ = true;
  request_output();
}

// -- the connection ----------------------------------------------------------------------------

void h2_downstream_connection::drain() {
  if (draining_) {
    return;
  }
  draining_ = true;
  session_.shutdown_notice();  // GOAWAY(2^31-1): no new streams soon; the final one follows
  request_output();
  finish_if_done();
}

// During a drain, once the last stream is done: the final GOAWAY, then close.
void h2_downstream_connection::finish_if_done() {
  if (draining_ && streams_.empty() && !close_when_flushed_) {
    session_.goaway(0);
    close_when_flushed_ = true;
    request_output();
  }
}

void h2_downstream_connection::update_idle() {
  if (streams_.empty() && !lingering_) {
    loop_.schedule(idle_timer_, worker_.settings().idle_timeout.count());
  }
}

void h2_downstream_connection::on_idle_timer(void* p) {
  auto* self = static_cast<h2_downstream_connection*>(p);
  if (self->lingering_) {
    self->close();
    return;
  }
  self->draining_ = true;
  self->finish_if_done();
}

void h2_downstream_connection::close_after_flush() {
  if (lingering_) {
    return;
  }
  lingering_ = true;
  shutdown_write();
  loop_.schedule(idle_timer_, linger_ms);
}

void h2_downstream_connection::on_data() {
  if (lingering_) {
    in_.clear();
    return;
  }
  bool ok = session_.feed(in_.data(), in_.size());
  in_.clear();
  if (!ok) {
    // A protocol error: nghttp2 queued a GOAWAY; send it and close.
    close_when_flushed_ = true;
  }
  request_output();
}

void h2_downstream_connection::produce_output() {
  for (auto id : pending_heads_) {
    if (auto* s = find(id)) {
      s->send_head(false);
    }
  }
  pending_heads_.clear();
  // Frames are taken from the session only while the socket keeps up: what the client's
  // window allows beyond that waits in the streams, whose upstreams pause (on_drained goes on).
  if (pending_output() < high_watermark) {
    session_.output(out_, high_watermark - pending_output());
  }
  resume_paused_streams();
  if ((close_when_flushed_ || !session_.alive()) && pending_output() == 0) {
    close_after_flush();
  }
}

// Streams whose upstream paused because the client was slow go on once their output shrank.
void h2_downstream_connection::resume_paused_streams() {
  for (size_t i = 0; i < paused_.size();) {
    auto* s = find(paused_[i]);
    if (s != nullptr && s->response_backlogged()) {
      ++i;
      continue;
    }
    paused_[i] = paused_.back();
    paused_.pop_back();
    if (s != nullptr) {
      s->paused_ = false;
      s->exchange_.on_response_drained();
    }
  }
}

void h2_downstream_connection::on_drained() {
  if (close_when_flushed_ || !session_.alive()) {
    close_after_flush();
    return;
  }
  request_output();  // more frames may wait for the socket (and paused streams may resume)
}

void h2_downstream_connection::on_eof(int error) {
  if (error == tls_failure) {
    worker_.count(protection_event::tls_refused, origin_.ip + ": " + describe(error));
  }
  close();
}

void h2_downstream_connection::on_closed() {
  loop_.cancel(idle_timer_);
  for (auto& [id, s] : streams_) {
    s->exchange_.abandon("client_closed");
  }
  streams_.clear();
  worker_.on_downstream_closed(this);
}

}  // namespace am::net
