#include "net/exchange.h"

#include <utility>

#include "net/downstream_shared.h"
#include "net/grpc.h"
#include "net/proxy_worker.h"

namespace am::net {

using namespace downstream_detail;

namespace {

constexpr size_t max_mirror_body = 64 * 1024;  // a larger request body is not mirrored
constexpr size_t max_request_id = 128;

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

exchange::exchange(proxy_worker& worker, exchange_client& client, listener_side side,
                   const client_origin& origin)
    : worker_(worker),
      client_(client),
      side_(side),
      origin_(origin),
      request_timer_(&exchange::on_request_timer, this),
      deadline_timer_(&exchange::on_deadline_timer, this),
      backoff_timer_(&exchange::on_backoff_timer, this) {}

exchange::~exchange() = default;

// -- the request -------------------------------------------------------------------------------

void exchange::start(const message_head& head) {
  begin(head);
  if (head.method == "CONNECT" && side_ == listener_side::ingress) {
    refuse_at_ingress(head.target);  // a tunnel would pass the export check
  } else if (head.method == "CONNECT") {
    start_connect(head);
  } else {
    route(head);
  }
}

void exchange::begin(const message_head& head) {
  active_ = true;
  recorded_ = false;
  start_ = std::chrono::steady_clock::now();
  start_unix_ms_ = worker_.access_log().enabled() ? unix_ms() : 0;  // a clock read saved
  method_ = head.method;
  path_.clear();
  authority_.clear();
  upstream_key_.clear();
  error_.clear();
  pending_body_.clear();
  status_ = 0;
  grpc_status_ = -1;
  bytes_in_ = bytes_out_ = 0;
  counted_active_ = false;
  request_done_ = false;
  request_chunked_ = head.chunked;
  request_has_body_ = head.chunked || head.content_length > 0;
  head_request_ = head.method == "HEAD";
  response_started_ = false;
  holding_ = false;
  const auto* content_type = head.find("content-type");
  grpc_ = content_type != nullptr && grpc::is_grpc_content_type(*content_type);
  grpc_deadline_ms_ = 0;
  if (grpc_) {
    if (const auto* timeout = head.find("grpc-timeout")) {
      grpc_deadline_ms_ = grpc::parse_timeout_ms(*timeout).value_or(0);
    }
  }
  outcome_pending_ = false;
  retried_ = false;
  stats_ = nullptr;
  service_ = nullptr;
  decision_ = route_decision{};
  attempts_ = 0;
  upstream_tls_ = false;
  tried_.clear();
  mirror_pending_ = false;
  retry_body_.clear();
  body_replayable_ = true;
  auto* id = head.find("x-request-id");
  if (id != nullptr && !id->empty() && id->size() <= max_request_id) {
    request_id_ = *id;
  } else if (worker_.settings().generate_request_id) {
    worker_.make_request_id(request_id_);
  } else {
    request_id_.clear();
  }
  begin_trace(head);
}

// The trace the request came with (W3C first, then B3), or a new one; and this hop's span.
void exchange::begin_trace(const message_head& head) {
  const std::string* traceparent = nullptr;
  const std::string* b3 = nullptr;
  const std::string* b3_trace = nullptr;
  const std::string* b3_span = nullptr;
  const std::string* b3_sampled = nullptr;
  for (size_t i = 0; i < head.count; ++i) {
    const auto& f = head.fields[i];
    if (!is_trace_field(f.name)) {
      continue;
    }
    auto* slot = iequals(f.name, "traceparent")    ? &traceparent
                 : iequals(f.name, "b3")           ? &b3
                 : iequals(f.name, "x-b3-traceid") ? &b3_trace
                 : iequals(f.name, "x-b3-spanid")  ? &b3_span
                 : iequals(f.name, "x-b3-sampled") ? &b3_sampled
                                                   : nullptr;
    if (slot != nullptr) {
      *slot = &f.value;
    }
  }
  auto& c = trace_.context;
  bool came = (traceparent != nullptr && parse_traceparent(*traceparent, c)) ||
              (b3 != nullptr && parse_b3(*b3, c)) ||
              (b3_trace != nullptr && b3_span != nullptr &&
               parse_b3_multi(*b3_trace, *b3_span, b3_sampled ? *b3_sampled : "", c));
  if (!came) {
    c = trace_context{};
    c.trace_hi = worker_.random();
    c.trace_lo = worker_.random() | 1;  // never the invalid all-zero id
  }
  c.span = worker_.random() | 1;
  trace_.format(b3 != nullptr         ? b3_format::single
                : b3_trace != nullptr ? b3_format::multi
                                      : b3_format::none);
}

void exchange::request_body(const char* data, size_t size) {
  bytes_in_ += size;
  bool keep_for_retry = service_ != nullptr && body_replayable_ && decision_.retry != nullptr &&
                        decision_.retry->attempts > 1;
  if (keep_for_retry) {
    retry_body_.append(data, size);
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
  } else if (active_ && !keep_for_retry) {
    pending_body_.append(data, size);
  }
}

void exchange::request_complete() {
  request_done_ = true;
  if (mirror_pending_ && service_ != nullptr) {
    send_mirror();  // the whole (bounded) body is here
  }
  if (upstream_ != nullptr) {
    upstream_->finish_request();
  }
}

bool exchange::request_backlogged() const {
  return upstream_ != nullptr ? upstream_->request_backlogged()
                              : pending_body_.size() > connection::high_watermark;
}

void exchange::fail(const message_head& head, proxy_error e, const std::string& detail) {
  if (!active_) {
    begin(head);
  }
  send_error(e, detail);
}

void exchange::abandon(const char* why) {
  if (active_ && !recorded_) {
    error_ = why;
    if (grpc_ && grpc_status_ < 0) {
      grpc_status_ = grpc::cancelled;
    }
    record();
  }
  active_ = false;
  loop_cancel_all();
  release_snapshot();
  release_upstream();
  if (pending_tunnel_ != nullptr) {
    pending_tunnel_->forget_waiter();
    pending_tunnel_->close();
    pending_tunnel_ = nullptr;
  }
  if (resolve_token_) {
    *resolve_token_ = nullptr;
    resolve_token_.reset();
  }
}

void exchange::loop_cancel_all() {
  auto& loop = worker_.loop();
  loop.cancel(request_timer_);
  loop.cancel(deadline_timer_);
  loop.cancel(backoff_timer_);
}

void exchange::release_upstream() {
  holding_ = false;  // a held response goes with its connection: none of it reached the client
  if (upstream_ != nullptr) {
    auto* up = upstream_;
    upstream_ = nullptr;
    up->release();
  }
}

// -- timers ------------------------------------------------------------------------------------

void exchange::on_request_timer(void* p) {
  auto* self = static_cast<exchange*>(p);
  if (self->pending_tunnel_ != nullptr) {  // a CONNECT whose upstream did not accept in time
    self->pending_tunnel_->forget_waiter();
    self->pending_tunnel_->close();
    self->pending_tunnel_ = nullptr;
    self->record_outcome(0);
    self->send_error(proxy_error::upstream_connect_failed,
                     self->upstream_key_ + " did not accept the connection in time");
    return;
  }
  self->record_outcome(0);
  if (self->try_retry({policy::attempt_failure::timeout, 0, nullptr})) {
    return;
  }
  self->send_error(proxy_error::upstream_timeout, self->upstream_key_ +
                                                      " sent no response head within " +
                                                      std::to_string(self->timeout_ms_) + "ms");
}

void exchange::on_deadline_timer(void* p) {
  auto* self = static_cast<exchange*>(p);
  if (self->grpc_) {
    self->send_error(proxy_error::upstream_timeout,
                     "the call's deadline (grpc-timeout or stream_timeout) passed after " +
                         std::to_string(self->attempts_) + " attempts");
    return;
  }
  self->send_error(proxy_error::upstream_timeout,
                   "no response head within the request timeout of " +
                       std::to_string(self->decision_.timeout_ms) + "ms (" +
                       std::to_string(self->attempts_) + " attempts)");
}

void exchange::on_backoff_timer(void* p) {
  static_cast<exchange*>(p)->start_attempt();
}

// -- the response ------------------------------------------------------------------------------

namespace {

// 1xx but a protocol switch: more heads follow.
bool is_interim(int status) {
  return status >= 100 && status < 200 && status != 101;
}

}  // namespace

void exchange::on_upstream_head(message_head& head) {
  if (!is_interim(head.status) && should_hold(head)) {
    holding_ = true;
    held_head_ = head;
    held_body_.clear();
    return;
  }
  start_response(head);
}

bool exchange::should_hold(const message_head& head) const {
  if (grpc_ || head_request_ || service_ == nullptr || decision_.retry == nullptr ||
      decision_.retry->attempts <= attempts_ || !head.has_content_length ||
      head.content_length > hold_limit) {
    return false;
  }
  policy::attempt_outcome reset{policy::attempt_failure::reset, 0, nullptr};
  return policy::decide_retry(*decision_.retry, reset, attempts_, method_, body_replayable_) ==
         policy::retry_decision::retry;
}

void exchange::start_response(message_head& head) {
  bool interim = is_interim(head.status);
  if (!interim) {
    std::optional<int> head_grpc_status;
    if (grpc_) {
      if (const auto* s = head.find("grpc-status")) {
        head_grpc_status = grpc::parse_status(*s);  // a trailers-only response
      }
    }
    if (head_grpc_status) {
      grpc_status_ = *head_grpc_status;
      record_outcome(grpc::http_status_of(*head_grpc_status));
    } else if (grpc_ && head.status == 200) {
      outcome_pending_ = true;  // the call's status comes in the trailers
    } else {
      record_outcome(head.status);
    }
    if (service_ != nullptr && decision_.retry->attempts > attempts_) {
      head_fields fields{head};
      if (try_retry({policy::attempt_failure::none, head.status, &fields,
                     head_grpc_status.value_or(-1)})) {
        return;  // this response is dropped with its connection; the next attempt answers
      }
    }
    auto& loop = worker_.loop();
    loop.cancel(request_timer_);
    if (!grpc_) {
      loop.cancel(deadline_timer_);  // a gRPC deadline covers the whole call
    }
    status_ = head.status;
    response_started_ = true;
  }
  const auto* ops =
      !interim && decision_.route != nullptr ? &decision_.route->response_headers : nullptr;
  client_.respond_head(head, ops);
}

void exchange::on_upstream_body(const char* data, size_t size) {
  if (holding_) {
    held_body_.append(data, size);  // at most hold_limit: the head said how much comes
    return;
  }
  bytes_out_ += size;
  client_.respond_body(data, size);
  if (upstream_ != nullptr && client_.response_backlogged()) {
    upstream_->pause_response(true);
  }
}

void exchange::on_upstream_trailers(message_head& trailers) {
  trailers_ = &trailers;
  if (!grpc_) {
    return;
  }
  if (const auto* s = trailers.find("grpc-status")) {
    grpc_status_ = grpc::parse_status(*s).value_or(grpc::unknown);
  }
}

void exchange::on_upstream_complete() {
  if (holding_) {
    holding_ = false;
    start_response(held_head_);
    if (!response_started_) {
      return;  // retried on its status: the held response is dropped with its connection
    }
    if (!held_body_.empty()) {
      on_upstream_body(held_body_.data(), held_body_.size());
    }
  }
  if (outcome_pending_) {
    // A call without a status is broken (gRPC's PROTOCOL-HTTP2: INTERNAL).
    record_outcome(grpc::http_status_of(grpc_status_ >= 0 ? grpc_status_ : grpc::internal));
  }
  finish();
}

void exchange::on_response_drained() {
  if (upstream_ != nullptr) {
    upstream_->pause_response(false);
  }
}

void exchange::on_upstream_error(proxy_error e, const std::string& detail, bool retryable) {
  upstream_ = nullptr;
  holding_ = false;  // a held response is dropped: nothing of it reached the client
  if (retryable && !retried_ && !request_has_body_ && !response_started_) {
    // A keep-alive connection the upstream closed as we reused it (or a stream it refused):
    // nothing reached the application, so the request goes once more, as the same attempt.
    retried_ = true;
    --attempts_;
    dispatch(upstream_address_);
    return;
  }
  if (!response_started_ || outcome_pending_) {
    record_outcome(0);
  }
  if (!response_started_) {
    auto failure = e == proxy_error::upstream_connect_failed
                       ? policy::attempt_failure::connect_failure
                       : policy::attempt_failure::reset;
    if (try_retry({failure, 0, nullptr})) {
      return;
    }
  }
  send_error(e, detail);
}

void exchange::on_upstream_drained() {
  client_.on_request_drained();
}

void exchange::on_upstream_switched(upstream_connection& c) {
  upstream_ = nullptr;
  record();
  active_ = false;
  client_.on_upgraded(c);
}

// The exchange ended with the upstream's complete response.
void exchange::finish() {
  auto* trailers = trailers_;
  trailers_ = nullptr;
  record();
  release_upstream();  // an HTTP/2 stream keeps its trailers until it closes
  active_ = false;
  client_.respond_end(trailers);
}

// -- errors and the record ---------------------------------------------------------------------

void exchange::send_error(proxy_error e, const std::string& detail) {
  worker_.loop().cancel(request_timer_);
  release_upstream();  // incomplete: the connection is closed, the stream reset
  if (!response_started_) {
    status_ = e == proxy_error::fault_injected ? decision_.fault_abort_status : status_of(e);
  }
  error_ = name_of(e);
  if (grpc_) {
    grpc_status_ = grpc::status_of(e);
  }
  record();
  active_ = false;
  client_.respond_error(status_, error_, detail, grpc_ ? grpc_status_ : -1);
}

void exchange::record_outcome(int status) {
  if (service_state_ != nullptr && endpoint_ != nullptr) {
    uint64_t latency_us = 0;
    if (attempt_start_ != std::chrono::steady_clock::time_point{}) {
      latency_us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                             std::chrono::steady_clock::now() - attempt_start_)
                                             .count());
    }
    worker_.record_attempt(*service_state_, *endpoint_, status, latency_us);
  }
  end_attempt();
  outcome_pending_ = false;
}

void exchange::record() {
  if (recorded_) {
    return;
  }
  recorded_ = true;
  auto elapsed = std::chrono::steady_clock::now() - start_;
  auto us =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count());
  auto* stats = stats_ != nullptr ? stats_ : worker_.unrouted_stats(side_);
  stats->record(status_, us, bytes_in_, bytes_out_);
  if (grpc_ && grpc_status_ >= 0) {
    stats->record_grpc(grpc_status_);
  }
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
    r.trace_id = trace_.trace_id();
    r.span_id = trace_.span_id();
    r.parent_span_id = trace_.parent_id;
    r.method = method_;
    r.authority = authority_;
    r.path = path_;
    r.status = status_;
    r.grpc_status = grpc_ ? grpc_status_ : -1;
    r.bytes_in = bytes_in_;
    r.bytes_out = bytes_out_;
    r.duration_us = us;
    r.upstream = upstream_key_;
    r.error = error_;
    r.service = stats->service;
    r.direction = to_string(stats->dir);
    log.append(r);
    worker_.flush_soon();
  }
  if (auto& spans = worker_.spans(); spans.enabled() && trace_.context.sampled) {
    span_record s;
    s.trace_id = trace_.trace_id();
    s.span_id = trace_.span_id();
    s.parent_id = trace_.parent_id;
    s.server = side_ != listener_side::outbound;
    s.local_service = worker_.settings().service_name;
    s.method = method_;
    s.authority = authority_;
    s.path = path_;
    s.status = status_;
    s.upstream = upstream_key_;
    s.error = error_;
    s.start_unix_us = start_unix_ms_ * 1000;
    s.duration_us = us;
    spans.append(s);
    worker_.flush_soon();
  }
  if (worker_.tapping() && side_ == listener_side::outbound) {
    worker_.tap({stats->service, method_, authority_, path_, status_, grpc_ ? grpc_status_ : -1, us,
                 upstream_key_, attempts_, error_});
  }
  // The exchange's routing state ends here: timers, and the snapshot it pointed into.
  loop_cancel_all();
  decision_ = route_decision{};
  release_snapshot();
}

void exchange::release_snapshot() {
  end_attempt();
  service_ = nullptr;
  service_state_ = nullptr;
  if (slot_ != nullptr) {
    worker_.release_snapshot(std::exchange(slot_, nullptr));
  }
}

}  // namespace am::net
