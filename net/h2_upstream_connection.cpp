#include "net/h2_upstream_connection.h"

#include <cstring>

#include "net/h2_message.h"
#include "net/upstream_pool.h"

namespace am::net {

namespace {

constexpr uint32_t refused_stream = 7;
constexpr uint32_t cancel = 8;

}  // namespace

// One exchange's stream. It lives until the session closed it and its owner let go.
class h2_upstream_connection::stream final : public upstream_channel {
 public:
  explicit stream(h2_upstream_connection& c) : conn_(c) {}

  // Ready for a new exchange (stream objects are reused, keeping their head's capacity).
  void reset(int32_t id, upstream_events* owner, bool request_ended) {
    owner_ = owner;
    id_ = id;
    unconsumed_ = 0;
    request_ended_ = request_ended;
    paused_ = false;
    response_started_ = false;
    response_done_ = false;
    closed_ = false;
  }

  void send_body(const char* data, size_t size) override {
    if (!closed_ && size > 0) {
      conn_.session_.send_data(id_, {data, size});
      conn_.request_output();
    }
  }

  void finish_request() override {
    if (!closed_ && !request_ended_) {
      request_ended_ = true;
      conn_.session_.end_stream(id_);
      conn_.request_output();
    }
  }

  void release() override {
    owner_ = nullptr;
    if (closed_) {
      conn_.forget(*this);
      return;
    }
    if (!response_done_ || !request_ended_) {
      // An exchange given up (a retry, a cancelled call, a deadline): the upstream stops too.
      conn_.session_.reset(id_, response_done_ ? 0 : cancel);
    } else if (unconsumed_ > 0) {
      conn_.session_.consume(id_, unconsumed_);
    }
    unconsumed_ = 0;
    conn_.request_output();
  }

  void pause_response(bool paused) override {
    paused_ = paused;
    if (!paused && unconsumed_ > 0 && !closed_) {
      conn_.session_.consume(id_, unconsumed_);
      unconsumed_ = 0;
      conn_.request_output();
    }
  }

  bool request_backlogged() const override {
    return conn_.session_.buffered(id_) > connection::high_watermark || conn_.over_high_watermark();
  }

  h2_upstream_connection& conn_;
  upstream_events* owner_ = nullptr;
  int32_t id_ = 0;
  message_head head_;  // the response head, then the trailers
  size_t unconsumed_ = 0;
  bool request_ended_ = false;
  bool paused_ = false;
  bool response_started_ = false;
  bool response_done_ = false;
  bool closed_ = false;
};

h2_upstream_connection::h2_upstream_connection(event_loop& loop, int fd, upstream_pool& pool,
                                               std::string key, traffic_stats* stats,
                                               int64_t idle_timeout_ms, int64_t connect_timeout_ms,
                                               uint32_t assumed_streams,
                                               std::unique_ptr<tls_stream> tls)
    : connection(loop, fd, true, std::move(tls)),
      pool_(pool),
      key_(std::move(key)),
      stats_(stats),
      session_(h2_session::role::client, *this,
               {max_streams, 1u << 20, static_cast<uint32_t>(pool.max_header_bytes())}),
      streams_(max_streams),
      idle_timer_(&h2_upstream_connection::on_idle_timeout, this),
      connect_timer_(&h2_upstream_connection::on_connect_timeout, this),
      idle_timeout_ms_(idle_timeout_ms),
      assumed_streams_(assumed_streams) {
  if (stats_ != nullptr) {
    stats_->upstream_connections.fetch_add(1, std::memory_order_relaxed);
    stats_->pending.fetch_add(1, std::memory_order_relaxed);
  }
  if (connect_timeout_ms > 0) {
    loop_.schedule(connect_timer_, connect_timeout_ms);
  }
}

h2_upstream_connection::~h2_upstream_connection() {
  connected();
  if (stats_ != nullptr) {
    stats_->upstream_connections.fetch_sub(1, std::memory_order_relaxed);
  }
}

bool h2_upstream_connection::has_room() const {
  auto peer =
      session_.peer_settings_received() ? session_.peer_max_concurrent_streams() : assumed_streams_;
  return !closed() && !goaway_ && streams_.size() < std::min(peer, max_streams);
}

uint32_t h2_upstream_connection::learned_stream_limit() const {
  return session_.peer_settings_received() ? session_.peer_max_concurrent_streams() : 0;
}

upstream_channel* h2_upstream_connection::open_stream(upstream_events* owner,
                                                      std::span<const h2_field> headers,
                                                      bool end_stream) {
  auto id = session_.submit_request(headers, end_stream);
  if (id <= 0) {
    return nullptr;
  }
  auto& s = streams_.open(id, [this] { return std::make_unique<stream>(*this); });
  s.reset(id, owner, end_stream);
  loop_.cancel(idle_timer_);
  request_output();
  return &s;
}

h2_upstream_connection::stream* h2_upstream_connection::find(int32_t id) {
  return streams_.find(id);
}

void h2_upstream_connection::forget(stream& s) {
  streams_.close(s.id_);  // `s` may be gone now
  update_idle();
}

// -- session events ----------------------------------------------------------------------------

void h2_upstream_connection::on_h2_headers(int32_t id, std::span<h2_field> fields,
                                           bool end_stream) {
  auto* s = find(id);
  if (s == nullptr || s->owner_ == nullptr) {
    return;
  }
  std::string error;
  bool trailers = s->response_started_;
  if (!read_h2_head(fields, end_stream, s->head_, error)) {
    auto* owner = s->owner_;
    s->owner_ = nullptr;
    session_.reset(id, 1);  // PROTOCOL_ERROR
    request_output();
    owner->on_upstream_error(proxy_error::upstream_bad_response, key_ + ": " + error, false);
    return;
  }
  if (trailers) {
    s->response_done_ = true;
    s->owner_->on_upstream_trailers(s->head_);
    if (s->owner_ != nullptr) {
      s->owner_->on_upstream_complete();
    }
    return;
  }
  bool interim = s->head_.status >= 100 && s->head_.status < 200;
  s->response_started_ = !interim;
  s->owner_->on_upstream_head(s->head_);
  if (end_stream && !interim && s->owner_ != nullptr) {
    s->response_done_ = true;
    s->owner_->on_upstream_complete();
  }
}

void h2_upstream_connection::on_h2_data(int32_t id, const char* data, size_t size) {
  auto* s = find(id);
  if (s == nullptr || s->owner_ == nullptr) {
    session_.consume(id, size);  // nobody reads it: keep the connection's window open
    return;
  }
  s->owner_->on_upstream_body(data, size);
  if (s->paused_ && s->owner_ != nullptr) {
    s->unconsumed_ += size;  // the window reopens when the owner's client catches up
  } else {
    session_.consume(id, size);
  }
}

void h2_upstream_connection::on_h2_end(int32_t id) {
  auto* s = find(id);
  if (s != nullptr && s->owner_ != nullptr && !s->response_done_) {
    s->response_done_ = true;
    s->owner_->on_upstream_complete();
  }
}

void h2_upstream_connection::on_h2_closed(int32_t id, uint32_t error_code) {
  auto* s = find(id);
  if (s == nullptr) {
    return;
  }
  s->closed_ = true;
  if (s->owner_ != nullptr && !s->response_done_) {
    // Refused streams, and those above a GOAWAY's last stream, never reached the application.
    bool retryable = error_code == refused_stream || (goaway_ && id > goaway_last_stream_);
    auto* owner = s->owner_;
    s->owner_ = nullptr;
    owner->on_upstream_error(
        proxy_error::upstream_reset,
        key_ + ": stream reset by the upstream (HTTP/2 error " + std::to_string(error_code) + ")",
        retryable);
  }
  if (s->owner_ == nullptr) {
    forget(*s);
  }
}

void h2_upstream_connection::on_h2_goaway(int32_t last_stream, uint32_t) {
  goaway_ = true;  // no new streams here; the pool opens another connection
  goaway_last_stream_ = last_stream;
  update_idle();
}

// -- the socket --------------------------------------------------------------------------------

void h2_upstream_connection::on_connected(int error) {
  connected();
  if (error != 0) {
    fail_all(proxy_error::upstream_connect_failed, key_ + ": " + describe(error));
    close();
    return;
  }
  request_output();
}

void h2_upstream_connection::connected() {
  if (connecting_) {
    connecting_ = false;
    loop_.cancel(connect_timer_);
    if (stats_ != nullptr) {
      stats_->pending.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

void h2_upstream_connection::on_connect_timeout(void* p) {
  auto* self = static_cast<h2_upstream_connection*>(p);
  self->fail_all(proxy_error::upstream_connect_failed, self->key_ + ": connect timed out");
  self->close();
}

void h2_upstream_connection::on_data() {
  heard_from_peer_ = true;
  bool ok = session_.feed(in_.data(), in_.size());
  in_.clear();
  if (!ok) {
    fail_all(proxy_error::upstream_bad_response, key_ + ": HTTP/2 protocol error");
    produce_output();  // the GOAWAY
    close();
    return;
  }
  request_output();
}

void h2_upstream_connection::produce_output() {
  if (pending_output() < high_watermark) {
    session_.output(out_, high_watermark - pending_output());
  }
}

void h2_upstream_connection::on_drained() {
  request_output();  // frames held back while the socket was full
  // By index: an owner's reaction may open a stream here (the table may grow).
  for (size_t i = 0; i < streams_.size(); ++i) {
    auto& s = *streams_.at(i);
    if (s.owner_ != nullptr && !s.request_ended_) {
      s.owner_->on_upstream_drained();
    }
  }
}

void h2_upstream_connection::on_eof(int error) {
  auto why = error != 0 ? describe(error) : std::string{"connection closed"};
  if (!heard_from_peer_) {
    // A server sends its SETTINGS before it reads anything, so a connection closed before
    // that was never served, whatever we sent on it: e.g. one the kernel accepted into the
    // backlog of a server that was killed. Failed like a refused connect (retried even for a
    // non-idempotent request), not like a reset.
    fail_all(proxy_error::upstream_connect_failed,
             key_ + ": " + why + " before its HTTP/2 preface");
  } else {
    fail_all(proxy_error::upstream_reset, key_ + ": " + why);
  }
  close();
}

void h2_upstream_connection::fail_all(proxy_error e, const std::string& detail) {
  goaway_ = true;
  for (auto& [id, s] : streams_.take_all()) {
    s->closed_ = true;
    if (s->owner_ != nullptr && !s->response_done_) {
      auto* owner = s->owner_;
      s->owner_ = nullptr;
      owner->on_upstream_error(e, detail, false);
    }
  }
}

void h2_upstream_connection::update_idle() {
  if (streams_.empty() && !closed()) {
    if (goaway_) {
      close();
    } else {
      loop_.schedule(idle_timer_, idle_timeout_ms_);
    }
  }
}

void h2_upstream_connection::on_idle_timeout(void* p) {
  auto* self = static_cast<h2_upstream_connection*>(p);
  self->session_.goaway(0);
  self->produce_output();
  self->close();
}

void h2_upstream_connection::on_closed() {
  loop_.cancel(idle_timer_);
  loop_.cancel(connect_timer_);
  pool_.forget(this);
}

}  // namespace am::net
