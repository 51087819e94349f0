#include "net/proxy_worker.h"

#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "net/h2_downstream_connection.h"
#include "net/mirror_exchange.h"
#include "net/socket.h"

namespace am::net {

// A listening socket: accepts every pending connection on each readiness event.
class listener_socket final : public io_handler {
 public:
  listener_socket(proxy_worker& w, int fd, listener_side side) : worker_(w), fd_(fd), side_(side) {}
  ~listener_socket() override { close_socket(); }

  void on_io(uint32_t) override { worker_.on_accept(fd_, side_); }
  void watch(event_loop& loop) { loop.add(fd_, EPOLLIN, this); }
  void close_socket() {
    if (fd_ >= 0) {
      worker_.loop().remove(fd_);
      ::close(fd_);
      fd_ = -1;
    }
  }

 private:
  proxy_worker& worker_;
  int fd_;
  listener_side side_;
};

namespace {

constexpr int64_t log_flush_ms = 50;
constexpr int64_t outcome_flush_ms = 10;  // one tick: the breaker learns within ~10 ms

}  // namespace

proxy_worker::proxy_worker(config::sidecar_settings settings, stats_registry& stats,
                           access_log_writer* log, uint32_t index)
    : settings_(std::move(settings)),
      stats_(stats),
      pool_(loop_, stats.proxy(), settings_.max_header_bytes, settings_.idle_timeout.count()),
      resolver_(loop_),
      log_buffer_(log),
      flush_timer_(&proxy_worker::on_flush_timer, this),
      inbound_stats_(stats.get(settings_.service_name, direction::inbound)),
      passthrough_stats_(stats.get("passthrough", direction::outbound)),
      unrouted_stats_(stats.get("unrouted", direction::outbound)),
      rng_(std::random_device{}()),
      index_(index) {
  snapshots_.push_back({std::make_shared<routing_snapshot>(), 0});
  make_address(settings_.inbound.app_address, settings_.inbound.app_port, app_address_);
  app_key_ = to_string(app_address_);
}

proxy_worker::~proxy_worker() {
  stop();
  mirrors_.clear();
  log_buffer_.flush();
  listeners_.clear();
  pool_.close_idle();
}

bool proxy_worker::open_listeners(std::string& error) {
  auto open = [&](const config::listener& l, listener_side side) {
    if (l.port == 0) {
      return true;
    }
    sockaddr_in address{};
    make_address(l.address, l.port, address);
    int fd = listen_tcp(address, true, error);
    if (fd < 0) {
      return false;
    }
    listeners_.push_back(std::make_unique<listener_socket>(*this, fd, side));
    listeners_.back()->watch(loop_);
    return true;
  };
  return open(settings_.outbound, listener_side::outbound) &&
         open(settings_.inbound, listener_side::inbound);
}

void proxy_worker::start() {
  loop_.schedule(flush_timer_, outcome_flush_ms);
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

void proxy_worker::install(routing_snapshot_ptr snapshot) {
  // Pickers restart with each snapshot: the endpoint sets may have changed under them.
  std::vector<lb::round_robin_picker> pickers(snapshot->picker_count, lb::round_robin_picker{{}});
  for (const auto& [name, svc] : snapshot->services) {
    for (const auto& subset : svc.subsets) {
      pickers[subset.picker] = lb::round_robin_picker{subset.weights};
    }
  }
  pickers_ = std::move(pickers);
  report_usage();  // counted against the old snapshot's service indices
  accounts_.assign(snapshot->services.size(), retry_account{});
  for (const auto& [name, svc] : snapshot->services) {
    auto lease = leases_.find(name);
    accounts_[svc.index].tokens = lease != leases_.end() ? lease->second : 0;
  }
  flush_outcomes();  // recorded against the old snapshot's endpoint indices
  outcomes_.assign(snapshot->services.size(), outcome_batch{snapshot->version, {}});
  probes_.assign(snapshot->services.size(), probe_use{});
  snapshots_.push_back({std::move(snapshot), 0});
  index_health();
  release_snapshot(first_slot_id_ + snapshots_.size());  // drops unused old ones
}

uint64_t proxy_worker::hold_snapshot() {
  ++snapshots_.back().users;
  return first_slot_id_ + snapshots_.size() - 1;
}

void proxy_worker::release_snapshot(uint64_t id) {
  auto index = id - first_slot_id_;
  if (index < snapshots_.size() && snapshots_[index].users > 0) {
    --snapshots_[index].users;
  }
  while (snapshots_.size() > 1 && snapshots_.front().users == 0) {
    snapshots_.pop_front();
    ++first_slot_id_;
  }
}

void proxy_worker::publish_health(std::string service, service_health_ptr health) {
  loop_.post([this, service = std::move(service), health = std::move(health)]() mutable {
    health_by_name_[service] = std::move(health);
    index_health();
  });
}

void proxy_worker::index_health() {
  const auto& snapshot = routes();
  health_.assign(snapshot.services.size(), nullptr);
  probed_.assign(snapshot.services.size(), {});  // new health: probes start over
  for (const auto& [name, svc] : snapshot.services) {
    auto i = health_by_name_.find(name);
    // Health computed for another snapshot names other endpoint indices: not applied.
    if (i != health_by_name_.end() && i->second->snapshot_version == snapshot.version) {
      health_[svc.index] = i->second.get();
    }
  }
}

bool proxy_worker::admit(const route_service& svc) {
  const auto* h = health_[svc.index];
  if (h == nullptr || h->breaker == breaker_mode::closed) {
    return true;
  }
  if (h->breaker == breaker_mode::open) {
    return false;
  }
  auto& p = probes_[svc.index];
  if (p.epoch != h->epoch) {
    p = probe_use{h->epoch, 0};
  }
  if (p.used >= h->probes_per_worker) {
    return false;
  }
  ++p.used;
  return true;
}

bool proxy_worker::try_use(const route_service& svc, uint32_t index) {
  const auto* h = health_[svc.index];
  if (h == nullptr || index >= h->ejected.size()) {
    return true;
  }
  if (h->ejected[index]) {
    return false;
  }
  if (h->probation[index]) {
    auto& probed = probed_[svc.index];
    probed.resize(h->probation.size());
    if (probed[index]) {
      return false;  // our probe is out; its outcome brings the next health
    }
    probed[index] = true;
  }
  return true;
}

void proxy_worker::record_attempt(const route_service& svc, uint32_t endpoint, int status) {
  if (svc.sink) {
    outcomes_[svc.index].attempts.push_back({endpoint, status});
  }
}

void proxy_worker::flush_outcomes() {
  const auto& snapshot = routes();
  for (const auto& [name, svc] : snapshot.services) {
    if (svc.index < outcomes_.size() && svc.sink && !outcomes_[svc.index].attempts.empty()) {
      auto batch = std::move(outcomes_[svc.index]);
      outcomes_[svc.index] = outcome_batch{snapshot.version, {}};
      svc.sink->deliver(std::move(batch));
    }
  }
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

bool proxy_worker::spend_retry(const route_service& svc) {
  if (!svc.usage) {
    return true;  // no retry actor (a snapshot built without one): no budget to keep
  }
  auto& account = accounts_[svc.index];
  if (account.tokens == 0) {
    return false;
  }
  --account.tokens;
  ++account.retries;
  return true;
}

void proxy_worker::count_request(const route_service& svc) {
  ++accounts_[svc.index].requests;
}

void proxy_worker::publish_lease(std::string service, uint64_t tokens) {
  loop_.post([this, service = std::move(service), tokens]() mutable {
    if (const auto* svc = routes().find(service)) {
      accounts_[svc->index].tokens = tokens;
    }
    leases_[std::move(service)] = tokens;
  });
}

void proxy_worker::report_usage() {
  for (const auto& [name, svc] : routes().services) {
    if (svc.index >= accounts_.size() || !svc.usage) {
      continue;
    }
    auto& account = accounts_[svc.index];
    if (account.requests != 0 || account.retries != 0) {
      svc.usage->deliver({index_, account.requests, account.retries});
      account.requests = account.retries = 0;
    }
  }
}

std::optional<uint32_t> proxy_worker::pick(const endpoint_subset& subset) {
  auto i = pickers_[subset.picker].pick();
  if (!i) {
    return std::nullopt;
  }
  return subset.members[*i];
}

void proxy_worker::drain(std::function<void()> done) {
  loop_.post([this, done = std::move(done)]() mutable {
    draining_ = true;
    on_drained_ = std::move(done);
    listeners_.clear();
    // drain() may close the connection, which erases it from the set: iterate a copy.
    std::vector<downstream*> open(downstreams_.begin(), downstreams_.end());
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

void proxy_worker::on_accept(int listen_fd, listener_side side) {
  for (int i = 0; i < 64; ++i) {
    int fd = accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED) {
        std::fprintf(stderr, "actormesh: accept: %s\n", std::strerror(errno));
      }
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Owned by the loop (adopted). An `auto` listener tells HTTP/2 by its preface.
    const auto& l = side == listener_side::inbound ? settings_.inbound : settings_.outbound;
    if (l.protocol == config::listener_protocol::http2) {
      new h2_downstream_connection(*this, fd, side, {});
    } else {
      new downstream_connection(*this, fd, side,
                                l.protocol == config::listener_protocol::automatic);
    }
  }
}

void proxy_worker::on_downstream_opened(downstream* c) {
  downstreams_.insert(c);
  stats_.proxy().downstream_connections.fetch_add(1, std::memory_order_relaxed);
}

void proxy_worker::on_downstream_closed(downstream* c) {
  if (downstreams_.erase(c) > 0) {
    stats_.proxy().downstream_connections.fetch_sub(1, std::memory_order_relaxed);
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
  if (++self->flush_ticks_ % (log_flush_ms / outcome_flush_ms) == 0) {
    self->log_buffer_.flush();
  }
  self->loop_.schedule(self->flush_timer_, outcome_flush_ms);
}

}  // namespace am::net
