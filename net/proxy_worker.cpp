#include "net/proxy_worker.h"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unordered_set>
#include <utility>

#include "net/h2_downstream_connection.h"
#include "net/hop_guard.h"
#include "net/listening_socket.h"
#include "net/mirror_exchange.h"
#include "net/socket.h"

namespace am::net {

namespace {

constexpr int64_t log_flush_ms = 50;
constexpr int64_t weights_check_ms = 100;
constexpr int64_t tap_flush_ms = 100;
constexpr int64_t tap_budget_ms = 1000;  // taps' limits are per second
constexpr int64_t protection_log_interval_ms = 5000;

}  // namespace

proxy_worker::proxy_worker(config::sidecar_settings settings, stats_registry& stats,
                           access_log_writer* log, uint32_t index, std::string_view instance,
                           span_exporter* spans)
    : settings_(std::move(settings)),
      stats_(stats),
      pool_(loop_, stats.proxy(), settings_.max_header_bytes, settings_.idle_timeout.count()),
      resolver_(loop_),
      log_buffer_(log),
      span_buffer_(spans),
      flush_timer_(&proxy_worker::on_flush_timer, this),
      inbound_stats_(stats.get(settings_.service_name, direction::inbound)),
      passthrough_stats_(stats.get("passthrough", direction::outbound)),
      unrouted_stats_(stats.get("unrouted", direction::outbound)),
      rng_(std::random_device{}()),
      index_(index) {
  install(std::make_shared<routing_snapshot>());
  make_address(settings_.inbound.app_address, settings_.inbound.app_port, app_address_);
  app_key_ = to_string(app_address_);
  last_logged_ms_.fill(-protection_log_interval_ms);
  hop_tokens_[0] = net::hop_token(settings_.service_name, instance, false);
  hop_tokens_[1] = net::hop_token(settings_.service_name, instance, true);
  const config::listener transparent{settings_.transparent.address, settings_.transparent.port};
  const config::listener* listeners[] = {&settings_.outbound, &settings_.inbound, &settings_.admin,
                                         &transparent};
  for (const auto* l : listeners) {
    auto addresses = bound_addresses(l->address, l->port);
    own_listeners_.insert(own_listeners_.end(), addresses.begin(), addresses.end());
  }
}

proxy_worker::~proxy_worker() {
  stop();
  mirrors_.clear();
  log_buffer_.flush();
  span_buffer_.flush();
  listeners_.clear();
  pool_.close_idle();
  stats_.proxy().routing_snapshots.fetch_sub(static_cast<int64_t>(slots_.size()),
                                             std::memory_order_relaxed);
}

bool proxy_worker::open_listeners(std::string& error) {
  if (const auto& t = settings_.tls; t.enabled()) {
    client_tls_ = tls_context::create(tls_role::client, t.cert, t.key, t.ca, error);
    if (settings_.ingress.port != 0 && client_tls_) {
      ingress_tls_ = tls_context::create(tls_role::server, t.cert, t.key, t.ca, error);
    }
    if (!client_tls_ || (settings_.ingress.port != 0 && !ingress_tls_)) {
      error = "tls: " + error;
      return false;
    }
    pool_.use_tls(client_tls_.get());
  }
  auto open = [&](const std::string& ip, uint16_t port, listener_side side, bool transparent,
                  const char* name) {
    if (port == 0) {
      return true;
    }
    sockaddr_in address{};
    make_address(ip, port, address);
    int fd = listen_tcp(address, true, error);
    if (fd < 0) {
      return false;
    }
    listeners_.push_back(std::make_unique<listening_socket>(
        loop_, fd, name,
        [this, side, transparent](int client) { on_accept(client, side, transparent); },
        &stats_.proxy().protection[protection_event::accept_paused]));
    return true;
  };
  const auto& s = settings_;
  if (!open(s.outbound.address, s.outbound.port, listener_side::outbound, false,
            "outbound listener") ||
      !open(s.inbound.address, s.inbound.port, listener_side::inbound, false, "inbound listener") ||
      !open(s.ingress.address, s.ingress.port, listener_side::ingress, false, "ingress listener") ||
      !open(s.transparent.address, s.transparent.port, listener_side::outbound, true,
            "transparent listener")) {
    return false;
  }
  if (s.transparent.port != 0) {
    std::string error6;
    int fd = listen_tcp6(s.transparent.address6, s.transparent.port, error6);
    if (fd < 0) {  // a host without IPv6: its connections can't be redirected to us anyway
      std::fprintf(stderr, "actormesh: no IPv6 transparent listener: %s\n", error6.c_str());
    } else {
      listeners_.push_back(std::make_unique<listening_socket>(
          loop_, fd, "transparent listener (IPv6)", [this](int client) { pass_through6(client); },
          &stats_.proxy().protection[protection_event::accept_paused]));
    }
  }
  return true;
}

// An intercepted IPv6 connection: TCP to its original destination (the mesh is IPv4). One
// to this listener itself is refused.
void proxy_worker::pass_through6(int fd) {
  sockaddr_in6 destination{};
  bool known = original_destination6(fd, destination);
  if (!known || (destination.sin6_port == htons(settings_.transparent.port) &&
                 IN6_IS_ADDR_LOOPBACK(&destination.sin6_addr))) {
    count(protection_event::loop_detected,
          "an IPv6 connection reached the transparent listener without a redirect");
    ::close(fd);
    return;
  }
  std::string error;
  int upstream = connect_tcp6(destination, error);
  if (upstream < 0) {
    ::close(fd);
    return;
  }
  count_detected(sniffed_protocol::opaque, false);
  auto* client = new tunnel_end(loop_, fd, false, nullptr);  // both adopted by the loop
  client->watch(this);
  auto* server = new tunnel_end(loop_, upstream, true, nullptr);
  tunnel_end::join(*client, *server);
}

void proxy_worker::start() {
  thread_ = std::thread{[this] { loop_.run(); }};
}

void proxy_worker::stop() {
  if (thread_.joinable()) {
    loop_.stop();
    thread_.join();
  }
}

void proxy_worker::publish(routing_snapshot_ptr snapshot) {
  loop_.post([this, s = std::move(snapshot)]() mutable { install(std::move(s)); });
}

namespace {

lb::algorithm algorithm_of(config::lb_policy policy) {
  switch (policy) {
    case config::lb_policy::least_request:
    case config::lb_policy::global:  // until the global-lb's weights come
      return lb::algorithm::least_request;
    case config::lb_policy::random:
      return lb::algorithm::random;
    case config::lb_policy::consistent_hash:
      return lb::algorithm::ring_hash;
    case config::lb_policy::round_robin:
      break;
  }
  return lb::algorithm::round_robin;
}

}  // namespace

service_state& proxy_worker::state_named(const std::string& name) {
  auto& s = services_[name];
  if (!s) {
    s = std::make_shared<service_state>(name);
  }
  return *s;
}

// The current snapshot's picker for `subset`, if it still serves the same members;
// otherwise a new one over the states of the subset's endpoints.
subset_picker_ptr proxy_worker::picker_for(const route_service& svc, const endpoint_subset& subset,
                                           service_state& state) const {
  auto algorithm = algorithm_of(svc.policy.lb);
  if (current_ != nullptr) {
    if (const auto* old = current_->snapshot->find(svc.name)) {
      for (const auto& s : old->subsets) {
        auto& p = current_->pickers[s.picker];
        if (s.labels == subset.labels && p->serves(svc, subset, algorithm)) {
          return p;
        }
      }
    }
  }
  std::vector<subset_picker::member> members;
  for (size_t i = 0; i < subset.members.size(); ++i) {
    const auto& ep = svc.endpoints[subset.members[i]];
    members.push_back({state.endpoint(ep.id, ep.key), subset.weights[i], ep.identity, ep.priority});
  }
  auto p = std::make_shared<subset_picker>(state, algorithm, std::move(members),
                                           svc.policy.locality.overprovisioning);
  std::erase_if(state.pickers, [](const auto& w) { return w.expired(); });
  state.pickers.push_back(p);
  return p;
}

// Swaps in a new snapshot. Services it no longer has hand in what they recorded; every state
// and picker it did not change carries over (DESIGN.md §3.6).
void proxy_worker::install(routing_snapshot_ptr snapshot) {
  for (auto i = services_.begin(); i != services_.end();) {
    if (snapshot->find(i->first) == nullptr) {
      flush_outcomes(*i->second);
      if (i->second->stats != nullptr) {
        i->second->stats->lb_mode.store(0, std::memory_order_relaxed);
      }
      i = services_.erase(i);  // exchanges still on it keep it alive through their slot
    } else {
      ++i;
    }
  }
  report_usage();
  snapshot_slot slot;
  slot.services.resize(snapshot->services.size());
  slot.pickers.resize(snapshot->picker_count);
  for (const auto& [name, svc] : snapshot->services) {
    auto& state = state_named(name);
    state.sink = svc.sink;
    state.usage = svc.usage;
    state.stats = svc.stats;
    if (!svc.sink && state.health) {
      // Its breaker and outlier detection are gone: so is what they decided.
      state.apply(std::make_shared<const service_health>());
    }
    bool global = svc.policy.lb == config::lb_policy::global;
    if (global != state.global) {
      state.global = global;
      state.weights_fresh = false;
      state.refresh_pickers();  // pickers shared with the last snapshot change algorithm
    }
    state.stats->lb_mode.store(!state.global         ? 0
                               : state.weights_fresh ? 1
                                                     : 2,
                               std::memory_order_relaxed);
    std::unordered_set<endpoint_id> ids;
    for (const auto& e : svc.endpoints) {
      ids.insert(e.id);
    }
    std::erase_if(state.endpoints, [&](const auto& kv) { return ids.count(kv.first) == 0; });
    for (const auto& subset : svc.subsets) {
      slot.pickers[subset.picker] = picker_for(svc, subset, state);
    }
    slot.services[svc.index] = services_[name];
  }
  auto version = snapshot->version;
  slot.snapshot = std::move(snapshot);
  auto* previous = current_;
  current_ = &slots_.emplace_back(std::move(slot));
  installed_version_.store(version, std::memory_order_release);
  stats_.proxy().routing_snapshots.fetch_add(1, std::memory_order_relaxed);
  if (previous != nullptr) {
    ++previous->users;
    release_snapshot(previous);  // freed now unless exchanges hold it
  }
}

snapshot_slot* proxy_worker::hold_snapshot() {
  ++current_->users;
  return current_;
}

void proxy_worker::release_snapshot(snapshot_slot* slot) {
  if (slot->users > 0) {
    --slot->users;
  }
  if (slot->users == 0 && slot != current_) {
    slots_.remove_if([slot](const snapshot_slot& s) { return &s == slot; });
    stats_.proxy().routing_snapshots.fetch_sub(1, std::memory_order_relaxed);
  }
}

void proxy_worker::publish_health(std::string service, service_health_ptr health) {
  loop_.post([this, service = std::move(service), health = std::move(health)]() mutable {
    // A service the current snapshot lacks is new (its first health says nothing yet) or
    // gone (a breaker's last word): either way there is nothing to apply it to.
    if (auto i = services_.find(service); i != services_.end()) {
      i->second->apply(std::move(health));
    }
  });
}

bool proxy_worker::admit(service_state& svc) {
  const auto* h = svc.health.get();
  if (h == nullptr || h->breaker == breaker_mode::closed) {
    return true;
  }
  if (h->breaker == breaker_mode::open) {
    return false;
  }
  if (svc.probe_epoch != h->epoch) {
    svc.probe_epoch = h->epoch;
    svc.probes_used = 0;
  }
  if (svc.probes_used >= h->probes_per_worker) {
    return false;
  }
  ++svc.probes_used;
  return true;
}

std::optional<endpoint_pick> proxy_worker::pick(const snapshot_slot& slot, const route_service& svc,
                                                const endpoint_subset& subset, const uint64_t* hash,
                                                bool probe,
                                                std::span<const endpoint_state* const> tried) {
  auto& picker = *slot.pickers[subset.picker];
  auto position = picker.pick(rng_(), hash, tried);
  if (!position) {
    return std::nullopt;
  }
  auto& endpoint = picker.member_state(*position);
  if (probe && endpoint.probation && !endpoint.probed) {
    endpoint.probed = true;  // this worker's probe: no more requests until its outcome is in
    state_of(slot, svc).refresh_pickers();
  }
  return endpoint_pick{subset.members[*position], &endpoint};
}

void proxy_worker::record_attempt(service_state& svc, endpoint_state& endpoint, int status,
                                  uint64_t latency_us) {
  if (svc.sink) {
    svc.outcomes.attempts.push_back({endpoint.id, status});
    flush_soon();
  }
  if (svc.global) {
    ++endpoint.completed;
    endpoint.errors += status == 0 || status >= 500 ? 1 : 0;
    endpoint.latency_us += latency_us;
  }
}

void proxy_worker::publish_weights(weight_table_ptr table) {
  loop_.post([this, table = std::move(table)] {
    for (const auto& weights : table->services) {
      auto i = services_.find(weights.service);
      if (i != services_.end() && i->second->global) {
        i->second->apply(weights, loop_.now_ms());
        i->second->stats->lb_mode.store(1, std::memory_order_relaxed);
        flush_soon();  // the tick expires them
      }
    }
  });
}

void proxy_worker::request_load_report() {
  loop_.post([this] { report_load(); });
}

// The load of every `lb: global` service's endpoints since the last report, for the
// global-lb (the sidecar asks every worker at once, once a second).
void proxy_worker::report_load() {
  const auto& sink = current_->snapshot->load;
  if (!sink) {
    return;
  }
  load_report report;
  for (auto& [name, svc] : services_) {
    if (!svc->global) {
      continue;
    }
    auto& out = report.services.emplace_back();
    out.service = name;
    for (auto& [id, e] : svc->endpoints) {
      out.endpoints.push_back(
          {e->key, e->completed, e->errors, e->latency_us, e->active, e->ejected});
      e->completed = e->errors = e->latency_us = 0;
    }
  }
  sink->deliver(std::move(report));  // even empty: the sidecar counts the answers
}

bool proxy_worker::any_weights_fresh() const {
  return std::any_of(services_.begin(), services_.end(),
                     [](const auto& s) { return s.second->weights_fresh; });
}

// Weights older than the configured age are dropped: local least request until fresh ones.
void proxy_worker::expire_weights() {
  auto now = loop_.now_ms();
  for (auto& [name, svc] : services_) {
    if (svc->weights_fresh && now - svc->weights_at_ms > settings_.global_weights_max_age.count()) {
      svc->weights_fresh = false;
      svc->refresh_pickers();
      svc->stats->lb_mode.store(2, std::memory_order_relaxed);
    }
  }
}

void proxy_worker::flush_outcomes(service_state& svc) {
  if (svc.sink && !svc.outcomes.attempts.empty()) {
    svc.sink->deliver(std::exchange(svc.outcomes, {}));
  }
}

void proxy_worker::flush_outcomes() {
  for (auto& [name, svc] : services_) {
    flush_outcomes(*svc);
  }
}

void proxy_worker::publish_taps(tap_set_ptr taps, std::shared_ptr<tap_sink> out) {
  loop_.post([this, taps = std::move(taps), out = std::move(out)]() mutable {
    taps_.install(std::move(taps), std::move(out));
    taps_.flush();  // the acknowledgement: requests finished from now on are tapped
    flush_soon();   // the tick refills their budgets
  });
}

void proxy_worker::tap(const tap_view& request) {
  taps_.record(request, settings_.service_name, [] {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::system_clock::now().time_since_epoch())
                                    .count());
  });
}

void proxy_worker::mirror(const sockaddr_in& address, const std::string& key,
                          std::string_view head) {
  upstream_pool::acquire_error why;
  std::string error;
  auto* c = pool_.acquire(address, key, {}, why, error);
  if (c == nullptr) {
    return;  // a mirror never fails the caller, nor is retried
  }
  auto m = std::make_unique<mirror_exchange>(*this, *c);
  c->start(m.get(), head, false, false, mirror_exchange::timeout_ms);
  c->finish_request();
  mirrors_.emplace(m.get(), std::move(m));
}

void proxy_worker::end_mirror(mirror_exchange* m) {
  mirrors_.erase(m);
}

bool proxy_worker::spend_retry(service_state& svc) {
  if (!svc.usage) {
    return true;  // no retry actor (a snapshot built without one): no budget to keep
  }
  if (svc.retry_tokens == 0) {
    return false;
  }
  --svc.retry_tokens;
  ++svc.retries;
  flush_soon();
  return true;
}

void proxy_worker::publish_lease(std::string service, uint64_t tokens) {
  loop_.post(
      [this, service = std::move(service), tokens] { state_named(service).retry_tokens = tokens; });
}

void proxy_worker::report_usage() {
  for (auto& [name, svc] : services_) {
    if (svc->usage && (svc->requests != 0 || svc->retries != 0)) {
      svc->usage->deliver({index_, svc->requests, svc->retries});
      svc->requests = svc->retries = 0;
    }
  }
}

void proxy_worker::drain(std::function<void()> done) {
  loop_.post([this, done = std::move(done)]() mutable {
    draining_ = true;
    on_drained_ = std::move(done);
    listeners_.clear();
    // drain() may close the connection, which erases it from the set: iterate a copy.
    std::vector<downstream*> open;
    for (auto [c, side] : downstreams_) {
      open.push_back(c);
    }
    for (auto* c : open) {
      c->drain();
    }
    pool_.close_idle();
    check_drained();
  });
}

void proxy_worker::check_drained() {
  if (draining_ && downstreams_.empty() && tunnels_ == 0 && on_drained_) {
    log_buffer_.flush();
    span_buffer_.flush();
    auto done = std::move(on_drained_);
    on_drained_ = nullptr;
    done();
  }
}

void proxy_worker::make_request_id(std::string& out) {
  // A random (version 4) UUID, formatted by hand: this runs for most requests.
  static constexpr char digits[] = "0123456789abcdef";
  uint64_t hi = (rng_() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  uint64_t lo = (rng_() & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  out.resize(36);
  int bit = 128;
  for (size_t i = 0; i < 36; ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      out[i] = '-';
      continue;
    }
    bit -= 4;
    auto nibble = bit >= 64 ? (hi >> (bit - 64)) & 0xf : (lo >> bit) & 0xf;
    out[i] = digits[nibble];
  }
}

void proxy_worker::on_accept(int fd, listener_side side, bool transparent) {
  // The limit counts this sidecar's connections on the listener, across its workers.
  auto& open = stats_.proxy().connections[side == listener_side::inbound ? 1 : 0];
  if (open.load(std::memory_order_relaxed) >= settings_.max_connections) {
    ::close(fd);  // at once, so that the client learns it (a backlog would only hang it)
    count(protection_event::listener_full,
          "max_connections (" + std::to_string(settings_.max_connections) + ") reached");
    return;
  }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (transparent || (side == listener_side::inbound && settings_.transparent.inbound)) {
    sockaddr_in destination{};
    if (intercept(fd, side, destination)) {
      new downstream_connection(*this, fd, side, false, &destination);
    }
    return;
  }
  // Owned by the loop (adopted). An `auto` listener tells HTTP/2 by its preface.
  const auto& l = side == listener_side::inbound   ? settings_.inbound
                  : side == listener_side::ingress ? settings_.ingress
                                                   : settings_.outbound;
  std::unique_ptr<tls_stream> tls;
  if (side == listener_side::ingress && ingress_tls_) {
    tls = ingress_tls_->open(fd);
  }
  if (l.protocol == config::listener_protocol::http2) {
    new h2_downstream_connection(*this, fd, side, std::move(tls));
  } else {
    new downstream_connection(*this, fd, side, l.protocol == config::listener_protocol::automatic,
                              nullptr, std::move(tls));
  }
}

// Where an intercepted connection goes. Outbound: its original destination, which must be
// known and must not be one of this sidecar's listeners (that would loop; the connection is
// closed). Inbound: the application port it was redirected from, or the application's
// address when it came to the inbound listener itself.
bool proxy_worker::intercept(int fd, listener_side side, sockaddr_in& destination) {
  bool known = original_destination(fd, destination);
  if (side == listener_side::inbound) {
    if (!known || destination.sin_port == htons(settings_.inbound.port)) {
      destination = app_address_;
    }
    return true;
  }
  if (!known || is_own_listener(destination, false)) {
    count(protection_event::loop_detected,
          known ? "a connection to " + to_string(destination) +
                      " reached the transparent listener: it is this sidecar's own"
                : "a connection reached the transparent listener without a redirect (no "
                  "original destination)");
    ::close(fd);
    return false;
  }
  return true;
}

void proxy_worker::count_detected(sniffed_protocol protocol, bool timed_out) {
  auto i = static_cast<size_t>(protocol) - 1;
  if (i < stats_.proxy().intercepted.size()) {
    stats_.proxy().intercepted[i].fetch_add(1, std::memory_order_relaxed);
  }
  if (timed_out) {
    stats_.proxy().detect_timeouts.fetch_add(1, std::memory_order_relaxed);
  }
}

bool proxy_worker::is_own_listener(const sockaddr_in& address, bool allow_inbound) const {
  // Connecting to 0.0.0.0 reaches this host; any 127.0.0.0/8 address reaches a 0.0.0.0 bind.
  auto to = ntohl(address.sin_addr.s_addr);
  if (to == INADDR_ANY) {
    to = INADDR_LOOPBACK;
  }
  bool loopback = (to >> 24) == 127;
  for (const auto& own : own_listeners_) {
    auto at = ntohl(own.sin_addr.s_addr);
    if (own.sin_port == address.sin_port && (at == to || (at == INADDR_ANY && loopback)) &&
        !(allow_inbound && own.sin_port == htons(settings_.inbound.port))) {
      return true;
    }
  }
  return false;
}

void proxy_worker::count(protection_event e, std::string_view detail) {
  auto total = stats_.proxy().protection[e].fetch_add(1, std::memory_order_relaxed) + 1;
  // Logged at most every few seconds per kind and worker: an attack must not flood the log.
  auto& last = last_logged_ms_[e];
  if (loop_.now_ms() - last >= protection_log_interval_ms) {
    last = loop_.now_ms();
    std::fprintf(stderr, "actormesh: %s: %.*s (%llu so far)\n", to_string(e),
                 static_cast<int>(detail.size()), detail.data(),
                 static_cast<unsigned long long>(total));
  }
}

void proxy_worker::on_downstream_opened(downstream* c, listener_side side) {
  downstreams_.emplace(c, side);
  stats_.proxy().downstream_connections.fetch_add(1, std::memory_order_relaxed);
  stats_.proxy().connections[side == listener_side::inbound ? 1 : 0].fetch_add(
      1, std::memory_order_relaxed);
}

void proxy_worker::on_downstream_closed(downstream* c) {
  if (auto i = downstreams_.find(c); i != downstreams_.end()) {
    stats_.proxy().downstream_connections.fetch_sub(1, std::memory_order_relaxed);
    stats_.proxy().connections[i->second == listener_side::inbound ? 1 : 0].fetch_sub(
        1, std::memory_order_relaxed);
    downstreams_.erase(i);
  }
  check_drained();
}

void proxy_worker::on_tunnel_opened() {
  ++tunnels_;
}

void proxy_worker::on_tunnel_closed() {
  --tunnels_;
  check_drained();
}

void proxy_worker::on_flush_timer(void* p) {
  auto* self = static_cast<proxy_worker*>(p);
  self->flush_outcomes();
  self->report_usage();
  auto now = self->loop_.now_ms();
  auto due = [now](int64_t& last, int64_t interval) {
    if (now - last < interval) {
      return false;
    }
    last = now;
    return true;
  };
  if (due(self->logs_flushed_ms_, log_flush_ms)) {
    self->log_buffer_.flush();
    self->span_buffer_.flush();
  }
  bool weights = self->any_weights_fresh();
  if (weights && due(self->weights_checked_ms_, weights_check_ms)) {
    self->expire_weights();
  }
  if (due(self->taps_flushed_ms_, tap_flush_ms)) {
    self->taps_.flush();
  }
  if (due(self->taps_refilled_ms_, tap_budget_ms)) {
    self->taps_.refill();
  }
  // Again while something waits for a later tick; else the next buffered record arms it.
  if (!self->log_buffer_.empty() || !self->span_buffer_.empty() || self->taps_.active() ||
      weights) {
    self->loop_.schedule(self->flush_timer_, flush_tick_ms);
  }
}

}  // namespace am::net
