#include "net/upstream_connection.h"

#include <charconv>
#include <cstring>

#include "net/upstream_pool.h"

namespace am::net {

upstream_connection::upstream_connection(event_loop& loop, int fd, upstream_pool& pool,
                                         std::string key, size_t max_header_bytes,
                                         traffic_stats* stats, std::unique_ptr<tls_stream> tls)
    : connection(loop, fd, true, std::move(tls)),
      pool_(pool),
      key_(std::move(key)),
      parser_(http1_parser::kind::response, *this, max_header_bytes),
      idle_timer_(&upstream_connection::on_idle_timeout, this),
      connect_timer_(&upstream_connection::on_connect_timeout, this),
      stats_(stats) {
  if (stats_ != nullptr) {
    stats_->upstream_connections.fetch_add(1, std::memory_order_relaxed);
    stats_->pending.fetch_add(1, std::memory_order_relaxed);
  }
}

upstream_connection::~upstream_connection() {
  release_gauges();  // destroyed with the loop, never closed
}

void upstream_connection::release_gauges() {
  connected();  // no longer pending, whatever happened
  if (stats_ != nullptr) {
    stats_->upstream_connections.fetch_sub(1, std::memory_order_relaxed);
    stats_ = nullptr;
  }
}

void upstream_connection::start(upstream_events* owner, std::string_view request_head,
                                bool head_request, bool chunked_body, int64_t connect_timeout_ms) {
  loop_.cancel(idle_timer_);
  if (connecting_ && connect_timeout_ms > 0) {
    loop_.schedule(connect_timer_, connect_timeout_ms);
  }
  owner_ = owner;
  head_request_ = head_request;
  chunked_body_ = chunked_body;
  request_done_ = false;
  response_done_ = false;
  got_response_bytes_ = false;
  if (parser_.stopped_at_message_end()) {
    parser_.resume();
  }
  pause_reading(false);
  send(request_head);
}

void upstream_connection::send_body(const char* data, size_t size) {
  if (size == 0) {
    return;
  }
  if (chunked_body_) {
    char header[24];
    auto [end, ec] = std::to_chars(header, header + sizeof header - 2, size, 16);
    *end++ = '\r';
    *end++ = '\n';
    send({header, static_cast<size_t>(end - header)});
    send({data, size});
    send("\r\n");
  } else {
    send({data, size});
  }
}

void upstream_connection::finish_request() {
  request_done_ = true;
  if (chunked_body_) {
    send("0\r\n\r\n");
  }
}

void upstream_connection::release() {
  owner_ = nullptr;
  if (parsing_) {
    release_pending_ = true;  // decided in on_data() once the parsed bytes are consumed
    return;
  }
  if (closed()) {
    return;
  }
  if (request_done_ && response_done_ && keep_alive_ && in_.empty() && !parser_.upgraded()) {
    reused_ = true;
    pool_.give_back(this);
  } else {
    close();
  }
}

void upstream_connection::park(int64_t idle_timeout_ms) {
  loop_.schedule(idle_timer_, idle_timeout_ms);
}

void upstream_connection::on_idle_timeout(void* self) {
  static_cast<upstream_connection*>(self)->close();
}

void upstream_connection::on_connect_timeout(void* p) {
  auto* self = static_cast<upstream_connection*>(p);
  self->fail(proxy_error::upstream_connect_failed, self->key_ + ": connect timed out");
}

void upstream_connection::connected() {
  if (connecting_) {
    connecting_ = false;
    loop_.cancel(connect_timer_);
    if (stats_ != nullptr) {
      stats_->pending.fetch_sub(1, std::memory_order_relaxed);
    }
  }
}

// -- response parsing --------------------------------------------------------------------------

bool upstream_connection::on_head(message_head& head) {
  keep_alive_ = head.keep_alive;
  if (owner_ != nullptr) {
    owner_->on_upstream_head(head);
  }
  return head_request_;
}

void upstream_connection::on_body(const char* data, size_t size) {
  if (owner_ != nullptr) {
    owner_->on_upstream_body(data, size);
  }
}

void upstream_connection::on_message_complete() {
  auto status = parser_.head().status;
  if (status == 101) {
    response_done_ = true;
    return;  // on_data() hands the connection over once the head is consumed
  }
  if (status >= 100 && status < 200 && status != 101) {
    parser_.resume();  // an interim response: the final one follows
    return;
  }
  response_done_ = true;
  if (owner_ != nullptr) {
    owner_->on_upstream_complete();
  }
}

// -- socket events -----------------------------------------------------------------------------

void upstream_connection::on_connected(int error) {
  connected();
  if (error != 0) {
    fail(proxy_error::upstream_connect_failed, key_ + ": " + describe(error));
  }
}

void upstream_connection::on_data() {
  if (owner_ == nullptr) {
    close();  // bytes on an idle connection: the upstream is out of step with us
    return;
  }
  got_response_bytes_ = true;
  while (!in_.empty() && !closed() && owner_ != nullptr) {
    parsing_ = true;
    auto used = parser_.feed(in_.data(), in_.size());
    parsing_ = false;
    in_.consume(used);
    if (parser_.error() != parse_error::none) {
      fail(proxy_error::upstream_bad_response, key_ + ": " + parser_.error_detail());
      return;
    }
    if (used == 0 || parser_.upgraded()) {
      break;
    }
  }
  if (release_pending_) {
    release_pending_ = false;
    release();
  } else if (!closed() && owner_ != nullptr && parser_.upgraded() && response_done_) {
    auto* owner = owner_;
    owner_ = nullptr;
    owner->on_upstream_switched(*this);
  }
}

void upstream_connection::on_eof(int error) {
  if (owner_ != nullptr && !response_done_ && parser_.in_message()) {
    keep_alive_ = false;
    parser_.feed_eof();  // completes a body delimited by the connection's close
    if (response_done_) {
      close();
      return;
    }
  }
  if (owner_ != nullptr && !response_done_) {
    bool retryable = reused_ && !got_response_bytes_;
    auto detail =
        key_ + (error ? std::string{": "} + describe(error) : std::string{": connection closed"});
    auto* owner = owner_;
    owner_ = nullptr;
    close();
    owner->on_upstream_error(proxy_error::upstream_reset, detail, retryable);
    return;
  }
  close();
}

void upstream_connection::on_drained() {
  if (owner_ != nullptr) {
    owner_->on_upstream_drained();
  }
}

void upstream_connection::on_closed() {
  loop_.cancel(idle_timer_);
  release_gauges();
  pool_.forget(this);
}

void upstream_connection::fail(proxy_error e, const std::string& detail) {
  auto* owner = owner_;
  owner_ = nullptr;
  close();
  if (owner != nullptr) {
    owner->on_upstream_error(e, detail, false);
  }
}

}  // namespace am::net
