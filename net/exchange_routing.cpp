// exchange, second half: choosing the upstream of a request (mesh service with its route,
// retries, mirror and access rules; pass-through; inbound; CONNECT) and each attempt.
#include <algorithm>
#include <cstring>

#include "net/downstream_shared.h"
#include "net/exchange.h"
#include "net/grpc.h"
#include "net/h2_upstream_connection.h"
#include "net/hop_guard.h"
#include "net/proxy_worker.h"
#include "net/socket.h"

namespace am::net {

using namespace downstream_detail;

void exchange::route(const message_head& head) {
  if (!check_loop(head)) {
    return;
  }
  const auto* host_field = head.find("host");
  std::string_view authority = host_field != nullptr ? std::string_view{*host_field} : "";
  std::string_view path = head.target;
  if (side_ == listener_side::inbound) {
    // A redirected connection goes to the application port it was meant for.
    const auto& app = origin_.intercepted ? origin_.destination : worker_.app_address();
    stats_ = worker_.inbound_stats();
    upstream_key_ = origin_.intercepted ? origin_.destination_key : worker_.app_key();
    if (!admit_inbound(head)) {
      return;
    }
    choose_upstream_protocol(config::app_protocol::automatic);
    build_upstream_request(head, authority, path, nullptr, false);
    arm_passthrough_timeouts();
    dispatch(app);
    return;
  }
  if (origin_.intercepted) {
    route_intercepted(head);
    return;
  }
  if (!split_absolute_form(head.target, authority, path)) {
    if (head.target.empty() || head.target.front() != '/') {
      send_error(proxy_error::bad_request, "request target must be absolute-form or origin-form");
      return;
    }
    if (authority.empty()) {
      send_error(proxy_error::bad_request, "origin-form request without Host");
      return;
    }
  }
  path_.assign(path);
  authority_.assign(authority);
  route_outbound(head, authority);
}

// A request on an intercepted connection goes where the connection was going: the service
// at that address (with its policies, as if the request had named it), or the address
// itself when no service is there any more (the connection was detected as HTTP while one
// was). The Host header is passed on as it is.
void exchange::route_intercepted(const message_head& head) {
  const auto* host = head.find("host");
  authority_.assign(host != nullptr ? std::string_view{*host} : std::string_view{});
  path_.assign(head.target);
  if (const auto* svc = worker_.routes().service_at(origin_.destination)) {
    if (authority_.empty()) {
      authority_ = svc->name;
    }
    route_to_service(*svc, head);
    return;
  }
  stats_ = worker_.passthrough_stats();
  upstream_key_ = origin_.destination_key;
  if (authority_.empty()) {
    authority_ = upstream_key_;
  }
  upstream_h2_ = grpc_;
  build_upstream_request(head, authority_, path_, nullptr, false);
  arm_passthrough_timeouts();
  dispatch(origin_.destination);
}

// A request that passed this sidecar's side before, or too many proxies, ends here.
bool exchange::check_loop(const message_head& head) {
  const auto* hops = head.find(hops_header);
  if (hops == nullptr) {
    return true;
  }
  const auto& token = worker_.hop_token(side_);
  auto verdict = check_hops(*hops, token, worker_.settings().max_hops);
  if (verdict == hop_verdict::ok) {
    return true;
  }
  stats_ = worker_.unrouted_stats(side_);
  refuse_loop(verdict == hop_verdict::loop
                  ? "the request passed " + token + " before (" + std::string{hops_header} + ": " +
                        *hops + ")"
                  : "the request passed " + std::to_string(worker_.settings().max_hops) +
                        " proxies or more (max_hops)");
  return false;
}

void exchange::refuse_loop(const std::string& detail) {
  worker_.count(protection_event::loop_detected, detail);
  send_error(proxy_error::loop_detected, detail);
}

void exchange::route_outbound(const message_head& head, std::string_view authority) {
  std::string_view host;
  uint16_t port = 80;
  if (!split_authority(authority, 80, host, port)) {
    send_error(proxy_error::bad_request, "bad authority '" + std::string{authority} + "'");
    return;
  }
  const auto* svc = worker_.routes().find(host);
  if (side_ == listener_side::ingress && (svc == nullptr || !svc->policy.exported)) {
    refuse_at_ingress(host);
    return;
  }
  if (svc != nullptr) {
    route_to_service(*svc, head);
    return;
  }
  stats_ = worker_.passthrough_stats();
  if (worker_.settings().unknown_hosts == config::unknown_host_policy::reject) {
    send_error(proxy_error::unknown_service, "host " + std::string{host} + " is no mesh service");
    return;
  }
  upstream_h2_ = grpc_;  // a host outside the mesh gets HTTP/1.1, unless it is a gRPC call
  build_upstream_request(head, authority_, path_, nullptr, false);
  arm_passthrough_timeouts();
  resolve_then(host, port, &exchange::dispatch);
}

// Federation's ingress serves peer clusters the services this one exports, and nothing else:
// no pass-through, no tunnel (403; gRPC PERMISSION_DENIED).
void exchange::refuse_at_ingress(std::string_view host) {
  stats_ = worker_.unrouted_stats(side_);
  send_error(
      proxy_error::access_denied,
      "'" + std::string{host} + "' is not a service this cluster exports (federation ingress)");
}

// Requests outside the mesh's policies wait a fixed time for a response head; a gRPC call
// waits as long as its own deadline says (none: a long-lived stream is not cut).
void exchange::arm_passthrough_timeouts() {
  timeout_ms_ = passthrough_timeout_ms;
  if (!grpc_) {
    worker_.loop().schedule(request_timer_, timeout_ms_);
  } else if (grpc_deadline_ms_ > 0) {
    worker_.loop().schedule(deadline_timer_, grpc_deadline_ms_);
  }
}

void exchange::choose_upstream_protocol(config::app_protocol protocol) {
  switch (protocol) {
    case config::app_protocol::http1:
      upstream_h2_ = false;
      break;
    case config::app_protocol::http2:
    case config::app_protocol::grpc:
      upstream_h2_ = true;
      break;
    case config::app_protocol::automatic:
      upstream_h2_ = grpc_;  // gRPC needs HTTP/2; anything else goes as HTTP/1.1
      break;
  }
}

// The start of every exchange with a mesh service (a request or a CONNECT): hold the
// snapshot, decide the route, count the request, ask the breaker. False when the breaker
// refused (the 503 is sent).
bool exchange::enter_service(const route_service& svc, const message_head& head) {
  slot_ = worker_.hold_snapshot();
  service_ = &svc;
  service_state_ = &worker_.state_of(*slot_, svc);
  stats_ = svc.stats;
  decision_ = decide_route(worker_, svc, head, path_, origin_.ip);
  worker_.count_request(*service_state_);
  if (!worker_.admit(*service_state_)) {
    send_error(proxy_error::breaker_open, "the circuit breaker of " + svc.name + " is open");
    return false;
  }
  return true;
}

// A request to a mesh service: its route decides the endpoint subset, the headers, the
// timeouts and retries; the snapshot it uses is held until the exchange ends.
void exchange::route_to_service(const route_service& svc, const message_head& head) {
  if (!enter_service(svc, head)) {
    return;
  }
  const auto& limits = svc.policy.limits;
  if (limits.max_requests > 0 &&
      svc.stats->active.load(std::memory_order_relaxed) >= limits.max_requests) {
    send_error(proxy_error::overloaded,
               "max_requests " + std::to_string(limits.max_requests) + " reached");
    return;
  }
  if (decision_.fault_abort_status != 0) {
    status_ = decision_.fault_abort_status;
    send_error(proxy_error::fault_injected,
               "route " + decision_.route->name + " aborted the request (fault injection)");
    return;
  }
  choose_upstream_protocol(svc.policy.protocol);
  build_upstream_request(head, authority_, path_,
                         decision_.route != nullptr ? &decision_.route->request_headers : nullptr,
                         true);
  // A gRPC call's deadline is its grpc-timeout, capped by the service's stream_timeout (with
  // neither, long-lived streams are not cut); other requests have the route's timeout to the
  // response head.
  auto deadline = decision_.timeout_ms;
  if (grpc_) {
    auto cap = svc.policy.stream_timeout.count();
    deadline = grpc_deadline_ms_ == 0 ? cap
               : cap == 0             ? grpc_deadline_ms_
                                      : std::min(cap, grpc_deadline_ms_);
  }
  if (deadline > 0) {
    worker_.loop().schedule(deadline_timer_, deadline);
  }
  if (decision_.mirror != nullptr) {
    mirror_pending_ = true;
    mirror_body_.clear();
    if (!request_has_body_) {
      send_mirror();
    }
  }
  if (decision_.fault_delay_ms > 0) {
    worker_.loop().schedule(backoff_timer_, decision_.fault_delay_ms);
    return;
  }
  start_attempt();
}

// A shadow copy of a bodiless request to the route's mirror subset; its outcome is dropped.
void exchange::send_mirror() {
  mirror_pending_ = false;
  auto picked = worker_.pick(*slot_, *service_, *decision_.mirror, nullptr, false);
  if (!picked) {
    return;
  }
  const auto& ep = service_->endpoints[picked->index];
  scratch_.assign(upstream_head_);
  scratch_ += "x-actormesh-mirror: 1\r\n\r\n";
  scratch_ += mirror_body_;
  if (request_chunked_) {
    scratch_ += "0\r\n\r\n";
  }
  std::string{}.swap(mirror_body_);
  worker_.mirror(ep.address, ep.key, scratch_);
}

// An endpoint of the decided subset for the next try, counted as in flight to it until the
// attempt ends; answers 503 no_endpoint when there is none. Ejected endpoints (and probation
// endpoints whose probe is out) are never picked while another is eligible.
std::optional<endpoint_pick> exchange::pick_endpoint() {
  end_attempt();
  // A retry of a hashed request moves on along the ring rather than back to the endpoint
  // that just failed.
  uint64_t hash = decision_.hash ^ (attempts_ * uint64_t{0x9e3779b97f4a7c15});
  auto picked =
      worker_.pick(*slot_, *service_, *decision_.subset, decision_.hashed ? &hash : nullptr, true,
                   retrying_ ? std::span<const endpoint_state* const>{tried_}
                             : std::span<const endpoint_state* const>{});
  // A retry goes to another endpoint than the one that just failed, when the picker has
  // another to give (Envoy's previous_hosts): a dead endpoint that round robin hands out again
  // would otherwise take the retries of the requests it failed.
  for (int again = 0; again < 2 && picked && retrying_ && !decision_.hashed && !tried_.empty() &&
                      picked->state == tried_.back();
       ++again) {
    picked = worker_.pick(*slot_, *service_, *decision_.subset, nullptr);
  }
  if (picked) {
    endpoint_ = picked->state;
    ++endpoint_->active;
    // An lb: global service's attempt latencies go into its load reports.
    attempt_start_ = service_state_->global ? std::chrono::steady_clock::now()
                                            : std::chrono::steady_clock::time_point{};
  } else {
    std::string which;
    for (const auto& [k, v] : decision_.subset->labels) {
      which += (which.empty() ? " " : ",") + k + "=" + v;
    }
    send_error(proxy_error::no_endpoint, "service " + service_->name + " has no endpoints" +
                                             (which.empty() ? "" : " with" + which));
  }
  return picked;
}

// The current attempt's endpoint has one request fewer in flight.
void exchange::end_attempt() {
  if (endpoint_ != nullptr) {
    --endpoint_->active;
    tried_.push_back(endpoint_);
    endpoint_ = nullptr;
  }
}

// One try of a mesh request: an endpoint of the decided subset, then dispatch.
void exchange::start_attempt() {
  auto picked = pick_endpoint();
  if (!picked) {
    return;
  }
  const auto& ep = service_->endpoints[picked->index];
  upstream_key_ = ep.key;
  upstream_tls_ = ep.tls;
  timeout_ms_ = decision_.retry->per_try_timeout_ms;
  if (timeout_ms_ > 0) {
    worker_.loop().schedule(request_timer_, timeout_ms_);
  }
  dispatch(ep.address);
}

// Whether the caller (named by its sidecar in x-actormesh-caller) may call the local
// service; answers 403 naming the rule when not.
bool exchange::admit_inbound(const message_head& head) {
  const auto* local = worker_.routes().find(worker_.settings().service_name);
  if (local == nullptr) {
    return true;
  }
  const auto& access = local->policy.access;
  const auto* caller_field = head.find(caller_header);
  std::string_view caller = caller_field != nullptr ? std::string_view{*caller_field} : "";
  // Strings are built only for a denial: an admitted request allocates nothing here.
  auto deny = [&](const std::string& rule) {
    send_error(proxy_error::access_denied,
               "caller '" + std::string{caller.empty() ? "(none)" : caller} + "' " + rule);
    return false;
  };
  for (size_t i = 0; i < access.deny.size(); ++i) {
    if (access.deny[i] == caller) {
      return deny("denied by services." + local->name + ".access.deny[" + std::to_string(i) + "]");
    }
  }
  if (!access.allow.empty() &&
      std::find(access.allow.begin(), access.allow.end(), caller) == access.allow.end()) {
    return deny("is not in services." + local->name + ".access.allow");
  }
  return true;
}

// Numeric hosts go on at once; names are resolved off the loop and the connection continues
// when the answer comes back (if it is still open).
void exchange::resolve_then(std::string_view host, uint16_t port,
                            void (exchange::*next)(const sockaddr_in&)) {
  sockaddr_in address{};
  std::string host_text{host};
  if (make_address(host_text, port, address)) {
    upstream_key_ = to_string(address);
    (this->*next)(address);
    return;
  }
  resolve_token_ = std::make_shared<exchange*>(this);
  std::weak_ptr<exchange*> token = resolve_token_;
  worker_.dns().resolve(
      host_text, port,
      [token, next, host_text](bool ok, const sockaddr_in& a, const std::string& error) {
        auto alive = token.lock();
        if (!alive || *alive == nullptr) {
          return;
        }
        auto* self = *alive;
        self->resolve_token_.reset();
        if (!ok) {
          self->send_error(proxy_error::resolve_failed, host_text + ": " + error);
          return;
        }
        self->upstream_key_ = to_string(a);
        (self->*next)(a);
      });
}

namespace {

// Calls emit(name, value) for each field a request carries upstream besides its request line,
// Host and framing: its end-to-end fields (minus what the route's operations replace), the
// route's set fields, X-Forwarded-For, the hop marker with this sidecar's token (when given:
// never to hosts outside the mesh, which need not learn the mesh's names), the request id and
// the caller's identity.
template <class Emit>
void for_each_forwarded_field(const message_head& head, const config::header_ops* ops,
                              listener_side side, const std::string& client_ip,
                              const std::string* hop_token, const std::string& request_id,
                              const hop_trace& trace, const std::string* caller,
                              std::string& scratch, Emit&& emit) {
  const std::string* forwarded_for = nullptr;
  const std::string* hops = nullptr;
  const auto* connection_field = head.find("connection");
  for (size_t i = 0; i < head.count; ++i) {
    const auto& f = head.fields[i];
    if (iequals(f.name, "x-forwarded-for")) {
      forwarded_for = &f.value;
    } else if (hop_token != nullptr && iequals(f.name, hops_header)) {
      hops = &f.value;
    } else if (!is_hop_by_hop(connection_field, f.name) && !iequals(f.name, "host") &&
               !iequals(f.name, "x-request-id") &&
               !(side == listener_side::outbound && iequals(f.name, caller_header)) &&
               !iequals(f.name, attempt_header) && !is_trace_field(f.name) &&
               !touched_by(ops, f.name)) {
      emit(f.name, f.value);
    }
  }
  if (ops != nullptr) {
    for (const auto& [k, v] : ops->set) {
      emit(k, v);
    }
  }
  if (forwarded_for != nullptr) {
    scratch.assign(*forwarded_for);  // keeps its capacity: no allocation per request
    scratch += ", ";
    scratch += client_ip;
    emit("x-forwarded-for", scratch);
  } else {
    emit("x-forwarded-for", client_ip);
  }
  if (hops != nullptr) {
    scratch.assign(*hops);
    scratch += ", ";
    scratch += *hop_token;
    emit(hops_header, scratch);
  } else if (hop_token != nullptr) {
    emit(hops_header, *hop_token);
  }
  if (!request_id.empty()) {
    emit("x-request-id", request_id, true);  // unique: kept out of HPACK's table
  }
  emit("traceparent", trace.traceparent, true);
  if (trace.b3 == b3_format::single) {
    emit("b3", trace.b3_single, true);
  } else if (trace.b3 == b3_format::multi) {
    emit("x-b3-traceid", trace.trace_id(), true);
    emit("x-b3-spanid", trace.span_id(), true);
    if (!trace.parent_id.empty()) {
      emit("x-b3-parentspanid", trace.parent_id, true);
    }
    emit("x-b3-sampled", trace.context.sampled ? "1" : "0");
  }
  if (caller != nullptr) {
    // The caller's identity is what this sidecar says, never what the application set.
    emit(caller_header, *caller);
  }
}

}  // namespace

// Builds what every attempt sends: the HTTP/1.1 head (without the attempt count and the blank
// line, written per attempt) or the HTTP/2 header block (its last field is the attempt count).
void exchange::build_upstream_request(const message_head& head, std::string_view authority,
                                      std::string_view path, const config::header_ops* ops,
                                      bool mark_caller) {
  authority_.assign(authority);
  path_.assign(path);
  const auto* caller = mark_caller ? &worker_.settings().service_name : nullptr;
  bool in_mesh = service_ != nullptr || side_ == listener_side::inbound;
  const auto* hop_token = in_mesh ? &worker_.hop_token(side_) : nullptr;
  if (upstream_h2_) {
    upstream_fields_.clear();
    auto add = [this](std::string_view name, std::string_view value, bool no_index = false) {
      auto& f = upstream_fields_.add();
      assign_lower(f.name, name);
      f.value.assign(value);
      f.no_index = no_index;
    };
    add(":method", head.method);
    add(":scheme", "http");
    add(":authority", authority);
    add(":path", path);
    for_each_forwarded_field(head, ops, side_, origin_.ip, hop_token, request_id_, trace_, caller,
                             scratch_, add);
    if (grpc_) {
      add("te", "trailers");  // required by gRPC servers; hop-by-hop otherwise
    }
    if (head.has_content_length) {
      add("content-length", std::to_string(head.content_length));
    }
    if (service_ != nullptr) {
      add(attempt_header, "1");
    }
  }
  if (upstream_h2_ && decision_.mirror == nullptr) {
    return;  // mirrors are sent over HTTP/1.1, from the text head
  }
  auto& out = upstream_head_;
  out.clear();
  out += head.method;
  out += ' ';
  out += path;
  out += " HTTP/1.1\r\nHost: ";
  out += authority;
  out += "\r\n";
  for_each_forwarded_field(head, ops, side_, origin_.ip, hop_token, request_id_, trace_, caller,
                           scratch_,
                           [&out](std::string_view name, std::string_view value, bool = false) {
                             out += name;
                             out += ": ";
                             out += value;
                             out += "\r\n";
                           });
  if (head.upgrade) {
    const auto* upgrade = head.find("upgrade");
    out += "Connection: Upgrade\r\nUpgrade: ";
    out += upgrade != nullptr ? *upgrade : std::string{};
    out += "\r\n";
  }
  if (head.chunked) {
    out += "Transfer-Encoding: chunked\r\n";
  } else if (head.has_content_length) {
    out += "Content-Length: ";
    append_decimal(out, head.content_length);
    out += "\r\n";
  }
}

void exchange::dispatch(const sockaddr_in& address) {
  // Only a mesh endpoint may be this sidecar's inbound listener: the service calling itself.
  bool endpoint = service_ != nullptr && side_ == listener_side::outbound;
  if (worker_.is_own_listener(address, endpoint)) {
    refuse_loop(upstream_key_ + " is a listener of this sidecar");
    return;
  }
  upstream_address_ = address;
  std::string error;
  upstream_pool::limits limits;
  if (service_ != nullptr) {
    limits = {service_->stats, service_->policy.limits.max_connections,
              service_->policy.limits.max_pending, service_->policy.idle_timeout.count(),
              upstream_tls_};
  }
  upstream_pool::acquire_error why;
  if (!open_upstream(address, limits, why, error)) {
    if (why != upstream_pool::acquire_error::socket) {
      send_error(proxy_error::overloaded, error);
      return;
    }
    ++attempts_;  // it failed at once, but it was one: retries are bounded by attempts
    if (!try_retry({policy::attempt_failure::connect_failure, 0, nullptr})) {
      send_error(proxy_error::upstream_connect_failed, upstream_key_ + ": " + error);
    }
    return;
  }
  if (!retry_body_.empty()) {
    upstream_->send_body(retry_body_.data(), retry_body_.size());  // all received so far
  } else if (!pending_body_.empty()) {
    upstream_->send_body(pending_body_.data(), pending_body_.size());
    pending_body_.clear();
  }
  if (request_done_) {
    upstream_->finish_request();
  }
  client_.on_request_drained();
}

// Opens the attempt's channel: a stream on an HTTP/2 connection, or an HTTP/1.1 connection
// from the pool with the head written.
bool exchange::open_upstream(const sockaddr_in& address, const upstream_pool::limits& limits,
                             upstream_pool::acquire_error& why, std::string& error) {
  auto connect_timeout =
      service_ != nullptr ? service_->policy.connect_timeout.count() : default_connect_timeout_ms;
  auto& pool = worker_.pool();
  if (upstream_h2_) {
    auto* c = pool.acquire_h2(address, upstream_key_, limits, connect_timeout, why, error);
    if (c == nullptr) {
      return false;
    }
    if (service_ != nullptr) {
      upstream_fields_.back().value = std::to_string(attempts_ + 1);
    }
    bool end_stream = request_done_ && retry_body_.empty() && pending_body_.empty();
    upstream_ = c->open_stream(this, upstream_fields_.view(), end_stream);
    if (upstream_ == nullptr) {
      why = upstream_pool::acquire_error::socket;
      error = "the HTTP/2 session refused a new stream";
      return false;
    }
    count_attempt();
    return true;
  }
  auto* c = pool.acquire(address, upstream_key_, limits, why, error);
  if (c == nullptr) {
    return false;
  }
  count_attempt();
  scratch_.assign(upstream_head_);
  if (service_ != nullptr) {
    scratch_ += attempt_header;
    scratch_ += ": ";
    append_decimal(scratch_, attempts_);
    scratch_ += "\r\n";
  }
  scratch_ += "\r\n";
  c->start(this, scratch_, head_request_, request_chunked_, connect_timeout);
  upstream_ = c;
  return true;
}

void exchange::count_attempt() {
  if (stats_ != nullptr && !counted_active_) {
    counted_active_ = true;
    stats_->active.fetch_add(1, std::memory_order_relaxed);
  }
  ++attempts_;
}

// Tries the request again when its policy, the method, the body and the service's retry
// budget all allow it; the new attempt starts after a jittered backoff.
bool exchange::try_retry(const policy::attempt_outcome& outcome) {
  if (service_ == nullptr || decision_.retry == nullptr || response_started_) {
    return false;
  }
  auto d = policy::decide_retry(*decision_.retry, outcome, attempts_, method_, body_replayable_);
  if (d != policy::retry_decision::retry) {
    return false;
  }
  auto max_retries = service_->policy.limits.max_retries;
  if (!retrying_ && max_retries > 0 &&
      stats_->retries_active.load(std::memory_order_relaxed) >= max_retries) {
    return false;  // the limit on retries in flight (overload protection)
  }
  if (!worker_.spend_retry(*service_state_)) {
    return false;
  }
  if (!retrying_) {
    retrying_ = true;
    stats_->retries_active.fetch_add(1, std::memory_order_relaxed);
  }
  worker_.loop().cancel(request_timer_);
  release_upstream();  // the exchange is incomplete: the connection is closed
  auto unit = static_cast<double>(worker_.random() % 1'000'000) / 1e6;
  auto delay = policy::backoff_delay_ms(decision_.retry->backoff, attempts_ - 1, unit);
  worker_.loop().schedule(backoff_timer_, delay);
  return true;
}

// -- CONNECT -----------------------------------------------------------------------------------

void exchange::start_connect(const message_head& head) {
  stats_ = worker_.passthrough_stats();
  authority_ = head.target;
  path_.clear();
  std::string_view host;
  uint16_t port = 443;
  if (!split_authority(head.target, 443, host, port)) {
    send_error(proxy_error::bad_request, "CONNECT target must be host:port");
    return;
  }
  if (const auto* svc = worker_.routes().find(host)) {
    connect_to_service(*svc, head);
    return;
  }
  resolve_then(host, port, &exchange::connect_tunnel);
}

void exchange::start_tunnel(std::string_view sni) {
  message_head head;
  head.method = "CONNECT";
  begin(head);
  stats_ = side_ == listener_side::inbound ? worker_.inbound_stats() : worker_.passthrough_stats();
  upstream_key_ = origin_.destination_key;
  authority_ = sni.empty() ? upstream_key_ : std::string{sni};
  if (side_ == listener_side::outbound) {
    const auto* svc = sni.empty() ? nullptr : worker_.routes().find(sni);
    if (svc == nullptr) {
      svc = worker_.routes().service_at(origin_.destination);
    }
    if (svc != nullptr) {
      connect_to_service(*svc, head);
      return;
    }
  }
  connect_tunnel(origin_.destination);
}

// A tunnel to one endpoint of a mesh service, chosen like a request's (route subset, round
// robin, ejected endpoints skipped, breaker admission); the port the client named is the
// service's, not the endpoint's. Used when the bytes inside a CONNECT to a mesh service are
// not HTTP/2 (those are served call by call, see downstream_connection).
void exchange::connect_to_service(const route_service& svc, const message_head& head) {
  if (!enter_service(svc, head)) {
    return;
  }
  auto picked = pick_endpoint();
  if (!picked) {
    return;
  }
  const auto& ep = svc.endpoints[picked->index];
  upstream_key_ = ep.key;
  open_tunnel(ep.address, svc.policy.connect_timeout.count());
}

void exchange::connect_tunnel(const sockaddr_in& address) {
  open_tunnel(address, passthrough_timeout_ms);
}

// Starts connecting the upstream end of a tunnel; on_tunnel_connected (or the request
// timer, after `timeout_ms`) goes on.
void exchange::open_tunnel(const sockaddr_in& address, int64_t timeout_ms) {
  if (worker_.is_own_listener(address, service_ != nullptr)) {
    refuse_loop(upstream_key_ + " is a listener of this sidecar");
    return;
  }
  std::string error;
  int fd = connect_tcp(address, error);
  if (fd < 0) {
    record_outcome(0);
    send_error(proxy_error::upstream_connect_failed, upstream_key_ + ": " + error);
    return;
  }
  pending_tunnel_ = new tunnel_end(worker_.loop(), fd, true, this);
  worker_.loop().schedule(request_timer_, timeout_ms);
}

void exchange::on_tunnel_connected(tunnel_end& end, int error) {
  pending_tunnel_ = nullptr;
  worker_.loop().cancel(request_timer_);
  record_outcome(error == 0 ? 200 : 0);
  if (error != 0) {
    send_error(proxy_error::upstream_connect_failed, upstream_key_ + ": " + std::strerror(error));
    return;
  }
  status_ = 200;
  record();
  active_ = false;
  client_.on_tunnel_ready(end);
}

}  // namespace am::net
