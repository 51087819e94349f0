#include "net/downstream_connection.h"

#include <cstring>

#include "net/downstream_shared.h"
#include "net/proxy_worker.h"
#include "net/socket.h"

namespace am::net {

using namespace downstream_detail;

namespace {

constexpr int64_t linger_ms = 2000;
constexpr size_t max_mirror_body = 64 * 1024;  // a larger request body is not mirrored
constexpr size_t max_request_id = 128;
constexpr size_t pipeline_backlog = 64 * 1024;

void append_chunk(std::string& out, const char* data, size_t size) {
  append_hex(out, size);
  out += "\r\n";
  out.append(data, size);
  out += "\r\n";
}

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

downstream_connection::downstream_connection(proxy_worker& worker, int fd, listener_side side)
    : connection(worker.loop(), fd, false),
      worker_(worker),
      side_(side),
      parser_(http1_parser::kind::request, *this, worker.settings().max_header_bytes),
      client_ip_(peer_ip(fd)),
      wait_timer_(&downstream_connection::on_wait_timer, this),
      request_timer_(&downstream_connection::on_request_timer, this),
      deadline_timer_(&downstream_connection::on_deadline_timer, this),
      backoff_timer_(&downstream_connection::on_backoff_timer, this) {
  worker_.on_downstream_opened(this);
  arm_wait(wait_mode::idle);
}

downstream_connection::~downstream_connection() = default;

void downstream_connection::drain() {
  drain_requested_ = true;
  if (!active_ && in_.empty() && !parser_.in_message()) {
    close();
  }
}

// -- timers ------------------------------------------------------------------------------------

void downstream_connection::arm_wait(wait_mode mode) {
  wait_mode_ = mode;
  const auto& s = worker_.settings();
  auto delay = mode == wait_mode::idle   ? s.idle_timeout.count()
               : mode == wait_mode::head ? s.header_timeout.count()
                                         : linger_ms;
  loop_.schedule(wait_timer_, delay);
}

void downstream_connection::on_wait_timer(void* p) {
  auto* self = static_cast<downstream_connection*>(p);
  if (self->wait_mode_ == wait_mode::head) {
    self->send_error(proxy_error::header_timeout,
                     "request head not received within " +
                         std::to_string(self->worker_.settings().header_timeout.count()) + "ms");
  } else {
    self->close();
  }
}

void downstream_connection::on_request_timer(void* p) {
  auto* self = static_cast<downstream_connection*>(p);
  if (self->pending_tunnel_ != nullptr) {  // a CONNECT whose upstream did not accept in time
    self->pending_tunnel_->forget_waiter();
    self->pending_tunnel_->close();
    self->pending_tunnel_ = nullptr;
    if (self->service_ != nullptr) {
      self->worker_.record_attempt(*self->service_, self->endpoint_index_, 0);
    }
    self->send_error(proxy_error::upstream_connect_failed,
                     self->upstream_key_ + " did not accept the connection in time");
    return;
  }
  if (self->service_ != nullptr) {
    self->worker_.record_attempt(*self->service_, self->endpoint_index_, 0);
  }
  if (self->try_retry({policy::attempt_failure::timeout, 0, nullptr})) {
    return;
  }
  self->send_error(proxy_error::upstream_timeout, self->upstream_key_ +
                                                      " sent no response head within " +
                                                      std::to_string(self->timeout_ms_) + "ms");
}

void downstream_connection::on_deadline_timer(void* p) {
  auto* self = static_cast<downstream_connection*>(p);
  self->send_error(proxy_error::upstream_timeout,
                   "no response head within the request timeout of " +
                       std::to_string(self->decision_.timeout_ms) + "ms (" +
                       std::to_string(self->attempts_) + " attempts)");
}

void downstream_connection::on_backoff_timer(void* p) {
  static_cast<downstream_connection*>(p)->start_attempt();
}

// -- reading requests --------------------------------------------------------------------------

void downstream_connection::on_data() {
  if (closing_) {
    in_.clear();  // lingering: discard what the client still sends
    return;
  }
  process_input();
}

void downstream_connection::process_input() {
  while (!in_.empty() && !closed() && !closing_) {
    if (parser_.stopped_at_message_end() || parser_.upgraded()) {
      break;  // the next request waits for this response (or the tunnel takes the bytes)
    }
    if (!parser_.in_message() && wait_mode_ == wait_mode::idle) {
      arm_wait(wait_mode::head);  // first byte of a request head: the head clock starts
    }
    auto used = parser_.feed(in_.data(), in_.size());
    if (closed() || closing_) {
      return;
    }
    in_.consume(used);
    if (parser_.error() != parse_error::none) {
      auto e = parser_.error() == parse_error::header_too_large ? proxy_error::header_too_large
               : parser_.error() == parse_error::bad_framing    ? proxy_error::bad_framing
                                                                : proxy_error::bad_request;
      send_error(e, parser_.error_detail());
      return;
    }
    if (used == 0) {
      break;
    }
  }
  update_reading();
}

void downstream_connection::update_reading() {
  if (closed() || closing_) {
    return;
  }
  // While a request waits for its response, later bytes (a pipelined request, or the first
  // bytes of a tunnel) stay in in_; reading goes on until that backlog is large, so that the
  // common request-response cycle never touches the epoll interest set.
  bool backlog_full = in_.size() > pipeline_backlog;
  bool upstream_full = upstream_ != nullptr && upstream_->over_high_watermark();
  bool buffer_full = pending_body_.size() > high_watermark;
  pause_reading(backlog_full || upstream_full || buffer_full);
}

bool downstream_connection::on_head(message_head& head) {
  loop_.cancel(wait_timer_);
  begin_exchange(head);
  if (head.method == "CONNECT") {
    start_connect(head);
  } else {
    route(head);
  }
  return false;
}

void downstream_connection::on_body(const char* data, size_t size) {
  bytes_in_ += size;
  bool keep_for_retry = service_ != nullptr && body_replayable_ && decision_.retry != nullptr &&
                        decision_.retry->attempts > 1;
  if (keep_for_retry) {
    if (request_chunked_) {
      append_chunk(retry_body_, data, size);
    } else {
      retry_body_.append(data, size);
    }
    if (retry_body_.size() > decision_.retry->max_body_bytes) {
      body_replayable_ = false;  // too large to keep: this request is sent once
      if (upstream_ == nullptr && attempts_ > 0) {
        // Between two attempts: what was sent before can no longer be sent again.
        send_error(proxy_error::upstream_reset,
                   "the request body outgrew max_body_bytes while a retry was pending");
        return;
      }
      if (upstream_ == nullptr) {
        pending_body_ = std::move(retry_body_);  // not sent yet: the first attempt takes it
      }
      std::string{}.swap(retry_body_);
    }
  }
  if (mirror_pending_) {
    if (request_chunked_) {
      append_chunk(mirror_body_, data, size);
    } else {
      mirror_body_.append(data, size);
    }
    if (mirror_body_.size() > max_mirror_body) {
      mirror_pending_ = false;  // too large to copy: this request is not mirrored
      std::string{}.swap(mirror_body_);
    }
  }
  if (upstream_ != nullptr) {
    upstream_->send_body(data, size);
  } else if (active_ && !closing_ && !keep_for_retry) {
    if (request_chunked_) {
      append_chunk(pending_body_, data, size);
    } else {
      pending_body_.append(data, size);
    }
  }
}

void downstream_connection::on_message_complete() {
  request_done_ = true;
  if (mirror_pending_ && service_ != nullptr) {
    send_mirror();  // the whole (bounded) body is here
  }
  if (upstream_ != nullptr) {
    upstream_->finish_request();
  }
}

// -- choosing the upstream ---------------------------------------------------------------------

void downstream_connection::begin_exchange(const message_head& head) {
  active_ = true;
  recorded_ = false;
  start_ = std::chrono::steady_clock::now();
  start_unix_ms_ = unix_ms();
  method_ = head.method;
  path_.clear();
  authority_.clear();
  upstream_key_.clear();
  error_.clear();
  pending_body_.clear();
  status_ = 0;
  bytes_in_ = bytes_out_ = 0;
  counted_active_ = false;
  request_done_ = false;
  request_chunked_ = head.chunked;
  request_has_body_ = head.chunked || head.content_length > 0;
  head_request_ = head.method == "HEAD";
  response_started_ = false;
  chunk_response_ = false;
  client_keep_alive_ = head.keep_alive;
  client_minor_ = head.version_minor;
  close_after_response_ = drain_requested_;
  retried_ = false;
  stats_ = nullptr;
  service_ = nullptr;
  decision_ = route_decision{};
  attempts_ = 0;
  mirror_pending_ = false;
  retry_body_.clear();
  body_replayable_ = true;
  auto* id = head.find("x-request-id");
  if (id != nullptr && !id->empty() && id->size() <= max_request_id) {
    request_id_ = *id;
  } else {
    worker_.make_request_id(request_id_);
  }
}

// -- the response ------------------------------------------------------------------------------

void downstream_connection::on_upstream_head(message_head& head) {
  bool interim = head.status >= 100 && head.status < 200 && head.status != 101;
  if (interim && client_minor_ == 0) {
    return;  // HTTP/1.0 clients get no interim responses (RFC 9110 §15.2)
  }
  if (!interim && service_ != nullptr) {
    worker_.record_attempt(*service_, endpoint_index_, head.status);
  }
  if (!interim && service_ != nullptr && decision_.retry->attempts > attempts_) {
    head_fields fields{head};
    if (try_retry({policy::attempt_failure::none, head.status, &fields})) {
      return;  // this response is dropped with its connection; the next attempt answers
    }
  }
  const auto* ops =
      !interim && decision_.route != nullptr ? &decision_.route->response_headers : nullptr;
  auto& out = scratch_;
  out.clear();
  out += "HTTP/1.1 ";
  append_decimal(out, static_cast<uint64_t>(head.status));
  out += ' ';
  out += head.reason;
  out += "\r\n";
  const auto* connection_field = head.find("connection");
  for (size_t i = 0; i < head.count; ++i) {
    const auto& f = head.fields[i];
    if (!is_hop_by_hop(connection_field, f.name) && !touched_by(ops, f.name)) {
      out += f.name;
      out += ": ";
      out += f.value;
      out += "\r\n";
    }
  }
  append_set_fields(ops, out);
  if (interim) {
    out += "\r\n";
    send(out);
    return;  // the final response follows
  }
  loop_.cancel(request_timer_);
  loop_.cancel(deadline_timer_);
  status_ = head.status;
  response_started_ = true;
  if (head.status == 101) {
    const auto* upgrade = head.find("upgrade");
    out += "Connection: Upgrade\r\nUpgrade: ";
    out += upgrade != nullptr ? *upgrade : std::string{};
    out += "\r\n\r\n";
    send(out);
    return;
  }
  bool no_body = head_request_ || head.status == 204 || head.status == 304;
  if (head.has_content_length) {
    out += "Content-Length: ";
    append_decimal(out, head.content_length);
    out += "\r\n";
  } else if (!no_body) {
    // Chunked upstream, or a body that ends with the upstream's close: re-frame as chunked
    // for HTTP/1.1 clients; HTTP/1.0 clients read until we close.
    if (client_minor_ >= 1) {
      chunk_response_ = true;
      out += "Transfer-Encoding: chunked\r\n";
    } else {
      close_after_response_ = true;
    }
  }
  if (!client_keep_alive_ || parser_.upgraded() || worker_.draining() || !request_done_) {
    close_after_response_ = true;
  }
  if (close_after_response_) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  send(out);
}

void downstream_connection::on_upstream_body(const char* data, size_t size) {
  bytes_out_ += size;
  if (chunk_response_) {
    scratch_.clear();
    append_chunk(scratch_, data, size);
    send(scratch_);
  } else {
    send({data, size});
  }
  if (over_high_watermark() && upstream_ != nullptr) {
    upstream_->pause_reading(true);
  }
}

void downstream_connection::on_upstream_complete() {
  if (chunk_response_) {
    send("0\r\n\r\n");
  }
  finish_exchange();
}

void downstream_connection::on_upstream_error(proxy_error e, const std::string& detail,
                                              bool retryable) {
  upstream_ = nullptr;
  if (retryable && !retried_ && !request_has_body_ && !response_started_) {
    // A keep-alive connection the upstream closed as we reused it: nothing reached the
    // application, so the request goes once more on a fresh connection, as the same attempt.
    retried_ = true;
    --attempts_;
    dispatch(upstream_address_);
    return;
  }
  if (service_ != nullptr) {
    worker_.record_attempt(*service_, endpoint_index_, 0);
  }
  if (!response_started_) {
    auto failure = e == proxy_error::upstream_connect_failed
                       ? policy::attempt_failure::connect_failure
                       : policy::attempt_failure::reset;
    if (try_retry({failure, 0, nullptr})) {
      return;
    }
    send_error(e, detail);
    return;
  }
  error_ = name_of(e);
  record_exchange();
  close();
}

void downstream_connection::on_upstream_drained() {
  update_reading();
}

void downstream_connection::on_upstream_switched(upstream_connection& c) {
  upstream_ = nullptr;
  record_exchange();
  std::string up_unread, up_unsent, unread, unsent;
  int upstream_fd = c.detach_fd(up_unread, up_unsent);
  int fd = detach_fd(unread, unsent);
  auto* client = new tunnel_end(loop_, fd, false, nullptr);
  client->watch(&worker_);
  auto* server = new tunnel_end(loop_, upstream_fd, false, nullptr);
  client->send(unsent);
  server->send(up_unsent);
  client->preload_input(unread);
  server->preload_input(up_unread);
  tunnel_end::join(*client, *server);
}

void downstream_connection::finish_exchange() {
  record_exchange();
  if (upstream_ != nullptr) {
    upstream_->release();
    upstream_ = nullptr;
  }
  active_ = false;
  if (close_after_response_ || drain_requested_) {
    close_gracefully();
    return;
  }
  parser_.resume();
  arm_wait(wait_mode::idle);
  process_input();
}

// -- errors, logging, closing ------------------------------------------------------------------

void downstream_connection::send_error(proxy_error e, const std::string& detail) {
  loop_.cancel(request_timer_);
  if (upstream_ != nullptr) {
    upstream_->release();  // incomplete: the pool closes it
    upstream_ = nullptr;
  }
  if (!active_) {
    begin_exchange(parser_.head());
  }
  status_ = e == proxy_error::fault_injected ? decision_.fault_abort_status : status_of(e);
  error_ = name_of(e);
  auto body = error_ + ": " + detail + "\n";
  auto& out = scratch_;
  out.clear();
  out += "HTTP/1.1 ";
  append_decimal(out, static_cast<uint64_t>(status_));
  out += ' ';
  out += reason_phrase(status_);
  out += "\r\nContent-Type: text/plain\r\nContent-Length: ";
  append_decimal(out, body.size());
  out += "\r\nx-actormesh-error: ";
  out += error_;
  out += "\r\nConnection: close\r\n\r\n";
  out += body;
  send(out);
  record_exchange();
  close_gracefully();
}

void downstream_connection::record_exchange() {
  if (recorded_) {
    return;
  }
  recorded_ = true;
  auto elapsed = std::chrono::steady_clock::now() - start_;
  auto us =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
  auto* stats = stats_ != nullptr ? stats_ : worker_.unrouted_stats(side_);
  stats->record(status_, us, bytes_in_, bytes_out_);
  if (counted_active_) {
    counted_active_ = false;
    stats->active.fetch_sub(1, std::memory_order_relaxed);
  }
  if (retrying_) {
    retrying_ = false;
    stats->retries_active.fetch_sub(1, std::memory_order_relaxed);
  }
  if (error_ == "overloaded") {
    stats->overloaded.fetch_add(1, std::memory_order_relaxed);
  }
  auto& log = worker_.access_log();
  if (log.enabled()) {
    access_record r;
    r.start_unix_ms = start_unix_ms_;
    r.request_id = request_id_;
    r.method = method_;
    r.authority = authority_;
    r.path = path_;
    r.status = status_;
    r.bytes_in = bytes_in_;
    r.bytes_out = bytes_out_;
    r.duration_us = us;
    r.upstream = upstream_key_;
    r.error = error_;
    r.service = stats->service;
    r.direction = to_string(stats->dir);
    log.append(r);
  }
  // The exchange's routing state ends here: timers, and the snapshot it pointed into.
  loop_.cancel(deadline_timer_);
  loop_.cancel(backoff_timer_);
  service_ = nullptr;
  decision_ = route_decision{};
  release_snapshot();
}

// Half-closes after the last byte and reads until the client closes (or a linger timeout), so
// that the client reads our response instead of a reset caused by its own unread bytes.
void downstream_connection::close_gracefully() {
  if (closing_ || closed()) {
    return;
  }
  closing_ = true;
  active_ = false;
  arm_wait(wait_mode::linger);
  pause_reading(false);
  if (pending_output() == 0) {
    shutdown_write();
  }
}

void downstream_connection::on_drained() {
  if (closing_) {
    shutdown_write();
    return;
  }
  if (upstream_ != nullptr) {
    upstream_->pause_reading(false);
  }
}

void downstream_connection::on_eof(int) {
  if (active_ && !recorded_) {
    error_ = "client_closed";
    record_exchange();
  }
  close();
}

void downstream_connection::on_closed() {
  loop_.cancel(wait_timer_);
  loop_.cancel(request_timer_);
  loop_.cancel(deadline_timer_);
  loop_.cancel(backoff_timer_);
  release_snapshot();
  if (upstream_ != nullptr) {
    upstream_->release();
    upstream_ = nullptr;
  }
  if (pending_tunnel_ != nullptr) {
    pending_tunnel_->forget_waiter();
    pending_tunnel_->close();
    pending_tunnel_ = nullptr;
  }
  if (resolve_token_) {
    *resolve_token_ = nullptr;
  }
  worker_.on_downstream_closed(this);
}

}  // namespace am::net
