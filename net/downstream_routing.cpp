// downstream_connection, second half: choosing the upstream of a request (mesh service with
// its route, retries, mirror and access rules; pass-through; inbound; CONNECT).
#include <algorithm>
#include <cstring>

#include "net/downstream_connection.h"
#include "net/downstream_shared.h"
#include "net/proxy_worker.h"
#include "net/socket.h"

namespace am::net {

using namespace downstream_detail;

void downstream_connection::route(const message_head& head) {
  const auto* host_field = head.find("host");
  std::string_view authority = host_field != nullptr ? std::string_view{*host_field} : "";
  std::string_view path = head.target;
  if (side_ == listener_side::inbound) {
    stats_ = worker_.inbound_stats();
    timeout_ms_ = passthrough_timeout_ms;
    upstream_key_ = worker_.app_key();
    if (!admit_inbound(head)) {
      return;
    }
    build_upstream_head(head, authority, path, nullptr, false);
    loop_.schedule(request_timer_, timeout_ms_);
    dispatch(worker_.app_address());
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

void downstream_connection::route_outbound(const message_head& head, std::string_view authority) {
  std::string_view host;
  uint16_t port = 80;
  if (!split_authority(authority, 80, host, port)) {
    send_error(proxy_error::bad_request, "bad authority '" + std::string{authority} + "'");
    return;
  }
  if (const auto* svc = worker_.routes().find(host)) {
    route_to_service(*svc, head);
    return;
  }
  stats_ = worker_.passthrough_stats();
  if (worker_.settings().unknown_hosts == config::unknown_host_policy::reject) {
    send_error(proxy_error::unknown_service, "host " + std::string{host} + " is no mesh service");
    return;
  }
  timeout_ms_ = passthrough_timeout_ms;
  build_upstream_head(head, authority_, path_, nullptr, false);
  loop_.schedule(request_timer_, timeout_ms_);
  resolve_then(host, port, &downstream_connection::dispatch);
}

// The start of every exchange with a mesh service (a request or a CONNECT): hold the
// snapshot, decide the route, count the request, ask the breaker. False when the breaker
// refused (the 503 is sent).
bool downstream_connection::enter_service(const route_service& svc, const message_head& head) {
  snapshot_id_ = worker_.hold_snapshot();
  holds_snapshot_ = true;
  service_ = &svc;
  stats_ = svc.stats;
  decision_ = decide_route(worker_, svc, head, path_);
  worker_.count_request(svc);
  if (!worker_.admit(svc)) {
    send_error(proxy_error::breaker_open, "the circuit breaker of " + svc.name + " is open");
    return false;
  }
  return true;
}

// A request to a mesh service: its route decides the endpoint subset, the headers, the
// timeouts and retries; the snapshot it uses is held until the exchange ends.
void downstream_connection::route_to_service(const route_service& svc, const message_head& head) {
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
  build_upstream_head(head, authority_, path_,
                      decision_.route != nullptr ? &decision_.route->request_headers : nullptr,
                      true);
  loop_.schedule(deadline_timer_, decision_.timeout_ms);
  if (decision_.mirror != nullptr) {
    mirror_pending_ = true;
    mirror_body_.clear();
    if (!request_has_body_) {
      send_mirror();
    }
  }
  if (decision_.fault_delay_ms > 0) {
    loop_.schedule(backoff_timer_, decision_.fault_delay_ms);
    return;
  }
  start_attempt();
}

// A shadow copy of a bodiless request to the route's mirror subset; its outcome is dropped.
void downstream_connection::send_mirror() {
  mirror_pending_ = false;
  auto index = worker_.pick(*decision_.mirror);
  if (!index) {
    return;
  }
  const auto& ep = service_->endpoints[*index];
  scratch_.assign(upstream_head_);
  scratch_ += "x-actormesh-mirror: 1\r\n\r\n";
  scratch_ += mirror_body_;
  if (request_chunked_) {
    scratch_ += "0\r\n\r\n";
  }
  std::string{}.swap(mirror_body_);
  worker_.mirror(ep.address, ep.key, scratch_);
}

// An endpoint of the decided subset for the next try; answers 503 no_endpoint when there is
// none. Ejected endpoints (and probation endpoints whose probe is out) are skipped; the
// outlier detector never ejects them all, and if every pick is refused the last one is used.
std::optional<uint32_t> downstream_connection::pick_endpoint() {
  auto index = worker_.pick(*decision_.subset);
  for (size_t tries = 1;
       index && !worker_.try_use(*service_, *index) && tries < decision_.subset->members.size();
       ++tries) {
    index = worker_.pick(*decision_.subset);
  }
  if (!index) {
    std::string which;
    for (const auto& [k, v] : decision_.subset->labels) {
      which += (which.empty() ? " " : ",") + k + "=" + v;
    }
    send_error(proxy_error::no_endpoint, "service " + service_->name + " has no endpoints" +
                                             (which.empty() ? "" : " with" + which));
  }
  return index;
}

// One try of a mesh request: an endpoint of the decided subset, then dispatch.
void downstream_connection::start_attempt() {
  auto index = pick_endpoint();
  if (!index) {
    return;
  }
  const auto& ep = service_->endpoints[*index];
  endpoint_index_ = *index;
  upstream_key_ = ep.key;
  timeout_ms_ = decision_.retry->per_try_timeout_ms;
  if (timeout_ms_ > 0) {
    loop_.schedule(request_timer_, timeout_ms_);
  }
  dispatch(ep.address);
}

// Whether the caller (named by its sidecar in x-actormesh-caller) may call the local
// service; answers 403 naming the rule when not.
bool downstream_connection::admit_inbound(const message_head& head) {
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
void downstream_connection::resolve_then(std::string_view host, uint16_t port,
                                         void (downstream_connection::*next)(const sockaddr_in&)) {
  sockaddr_in address{};
  std::string host_text{host};
  if (make_address(host_text, port, address)) {
    upstream_key_ = to_string(address);
    (this->*next)(address);
    return;
  }
  resolve_token_ = std::make_shared<downstream_connection*>(this);
  std::weak_ptr<downstream_connection*> token = resolve_token_;
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

void downstream_connection::build_upstream_head(const message_head& head,
                                                std::string_view authority, std::string_view path,
                                                const config::header_ops* ops, bool mark_caller) {
  authority_.assign(authority);
  path_.assign(path);
  auto& out = upstream_head_;
  out.clear();
  out += head.method;
  out += ' ';
  out += path;
  out += " HTTP/1.1\r\nHost: ";
  out += authority;
  out += "\r\n";
  const std::string* forwarded_for = nullptr;
  const auto* connection_field = head.find("connection");
  for (size_t i = 0; i < head.count; ++i) {
    const auto& f = head.fields[i];
    if (iequals(f.name, "x-forwarded-for")) {
      forwarded_for = &f.value;
    } else if (!is_hop_by_hop(connection_field, f.name) && !iequals(f.name, "host") &&
               !iequals(f.name, "x-request-id") &&
               !(side_ == listener_side::outbound && iequals(f.name, caller_header)) &&
               !iequals(f.name, attempt_header) && !touched_by(ops, f.name)) {
      out += f.name;
      out += ": ";
      out += f.value;
      out += "\r\n";
    }
  }
  append_set_fields(ops, out);
  out += "X-Forwarded-For: ";
  if (forwarded_for != nullptr) {
    out += *forwarded_for;
    out += ", ";
  }
  out += client_ip_;
  out += "\r\nx-request-id: ";
  out += request_id_;
  out += "\r\n";
  if (mark_caller) {
    // The caller's identity is what this sidecar says, never what the application set.
    out += caller_header;
    out += ": ";
    out += worker_.settings().service_name;
    out += "\r\n";
  }
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
  // The blank line that ends the head is written per attempt, after the attempt count.
}

void downstream_connection::dispatch(const sockaddr_in& address) {
  upstream_address_ = address;
  std::string error;
  upstream_pool::limits limits;
  if (service_ != nullptr) {
    limits = {service_->stats, service_->policy.limits.max_connections,
              service_->policy.limits.max_pending, service_->policy.idle_timeout.count()};
  }
  upstream_pool::acquire_error why;
  upstream_ = worker_.pool().acquire(address, upstream_key_, limits, why, error);
  if (upstream_ == nullptr) {
    if (why != upstream_pool::acquire_error::socket) {
      send_error(proxy_error::overloaded, error);
    } else if (!try_retry({policy::attempt_failure::connect_failure, 0, nullptr})) {
      send_error(proxy_error::upstream_connect_failed, upstream_key_ + ": " + error);
    }
    return;
  }
  if (stats_ != nullptr && !counted_active_) {
    counted_active_ = true;
    stats_->active.fetch_add(1, std::memory_order_relaxed);
  }
  ++attempts_;
  scratch_.assign(upstream_head_);
  if (service_ != nullptr) {
    scratch_ += attempt_header;
    scratch_ += ": ";
    append_decimal(scratch_, attempts_);
    scratch_ += "\r\n";
  }
  scratch_ += "\r\n";
  auto connect_timeout =
      service_ != nullptr ? service_->policy.connect_timeout.count() : default_connect_timeout_ms;
  upstream_->start(this, scratch_, head_request_, request_chunked_, connect_timeout);
  if (!retry_body_.empty()) {
    upstream_->send(retry_body_);  // everything received so far, already framed
  } else if (!pending_body_.empty()) {
    upstream_->send(pending_body_);
    pending_body_.clear();
  }
  if (request_done_) {
    upstream_->finish_request();
  }
  update_reading();
}

// Tries the request again when its policy, the method, the body and the service's retry
// budget all allow it; the new attempt starts after a jittered backoff.
bool downstream_connection::try_retry(const policy::attempt_outcome& outcome) {
  if (service_ == nullptr || decision_.retry == nullptr || response_started_ || closing_) {
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
  if (!worker_.spend_retry(*service_)) {
    return false;
  }
  if (!retrying_) {
    retrying_ = true;
    stats_->retries_active.fetch_add(1, std::memory_order_relaxed);
  }
  loop_.cancel(request_timer_);
  if (upstream_ != nullptr) {
    upstream_->release();  // the exchange is incomplete: the connection is closed
    upstream_ = nullptr;
  }
  auto unit = static_cast<double>(worker_.random() % 1'000'000) / 1e6;
  auto delay = policy::backoff_delay_ms(decision_.retry->backoff, attempts_ - 1, unit);
  loop_.schedule(backoff_timer_, delay);
  return true;
}

void downstream_connection::release_snapshot() {
  if (holds_snapshot_) {
    holds_snapshot_ = false;
    worker_.release_snapshot(snapshot_id_);
  }
}

// -- CONNECT -----------------------------------------------------------------------------------

void downstream_connection::start_connect(const message_head& head) {
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
  resolve_then(host, port, &downstream_connection::connect_tunnel);
}

// CONNECT to a mesh service (how gRPC clients that honour http_proxy reach it): a tunnel to
// one endpoint of the service, chosen like a request's (route subset, round robin, ejected
// endpoints skipped, breaker admission); the port the client named is the service's, not
// the endpoint's. The connection is balanced, not each call inside it.
void downstream_connection::connect_to_service(const route_service& svc, const message_head& head) {
  if (!enter_service(svc, head)) {
    return;
  }
  auto index = pick_endpoint();
  if (!index) {
    return;
  }
  const auto& ep = svc.endpoints[*index];
  endpoint_index_ = *index;
  upstream_key_ = ep.key;
  open_tunnel(ep.address, svc.policy.connect_timeout.count());
}

void downstream_connection::connect_tunnel(const sockaddr_in& address) {
  open_tunnel(address, passthrough_timeout_ms);
}

// Starts connecting the upstream end of a tunnel; on_tunnel_connected (or the request
// timer, after `timeout_ms`) goes on.
void downstream_connection::open_tunnel(const sockaddr_in& address, int64_t timeout_ms) {
  std::string error;
  int fd = connect_tcp(address, error);
  if (fd < 0) {
    if (service_ != nullptr) {
      worker_.record_attempt(*service_, endpoint_index_, 0);
    }
    send_error(proxy_error::upstream_connect_failed, upstream_key_ + ": " + error);
    return;
  }
  pending_tunnel_ = new tunnel_end(loop_, fd, true, this);
  loop_.schedule(request_timer_, timeout_ms);
}

void downstream_connection::on_tunnel_connected(tunnel_end& end, int error) {
  pending_tunnel_ = nullptr;
  loop_.cancel(request_timer_);
  if (service_ != nullptr) {
    worker_.record_attempt(*service_, endpoint_index_, error == 0 ? 200 : 0);
  }
  if (error != 0) {
    send_error(proxy_error::upstream_connect_failed, upstream_key_ + ": " + std::strerror(error));
    return;
  }
  status_ = 200;
  record_exchange();
  send("HTTP/1.1 200 Connection Established\r\n\r\n");
  std::string unread, unsent;
  int fd = detach_fd(unread, unsent);
  auto* client = new tunnel_end(loop_, fd, false, nullptr);
  client->watch(&worker_);
  client->send(unsent);
  client->preload_input(unread);
  tunnel_end::join(*client, end);
}

}  // namespace am::net
