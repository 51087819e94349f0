#include "actors/breaker.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <optional>

#include "actors/actor_clock.h"
#include "actors/actor_sink.h"
#include "actors/log.h"
#include "actors/tsan_handoff.h"
#include "net/service_health.h"
#include "policy/circuit_breaker.h"
#include "policy/outlier_detector.h"

namespace am::actors {

namespace {

// Open breakers half-open and ejections end on this tick.
constexpr auto tick_interval = std::chrono::milliseconds{25};

struct breaker_state {
  std::string service;
  std::optional<config::breaker_spec> breaker_spec;
  std::optional<config::outlier_spec> outlier_spec;
  std::vector<worker_actor> workers;
  std::optional<policy::circuit_breaker> breaker;
  std::optional<policy::outlier_detector> outliers;
  net::endpoint_names endpoints;  // in id order
  bool published = false;         // workers have had a health from this actor
  uint64_t epoch = 0;
  uint64_t poll_generation = 0;           // only the newest poll scheduled counts
  int64_t poll_due_ms = -1;               // when it comes; -1: none
  net::traffic_stats* traffic = nullptr;  // the service's outbound counters
  uint64_t id = 0;                        // this actor's, to claim the counters' health
  actor_stats* stats = nullptr;

  ~breaker_state() {
    // No breaker any more: nothing open, nothing ejected; unless a newer breaker of the
    // service has claimed the counters already.
    auto writer = id;
    if (traffic != nullptr && traffic->health_writer.compare_exchange_strong(writer, 0)) {
      traffic->breaker_mode.store(0, std::memory_order_relaxed);
      traffic->ejected.store(0, std::memory_order_relaxed);
    }
  }
};

using self_ptr = breaker_actor::stateful_pointer<breaker_state>;

net::breaker_mode mode_of(policy::breaker_state s) {
  switch (s) {
    case policy::breaker_state::open:
      return net::breaker_mode::open;
    case policy::breaker_state::half_open:
      return net::breaker_mode::half_open;
    case policy::breaker_state::closed:
      break;
  }
  return net::breaker_mode::closed;
}

void publish(self_ptr self) {
  auto& st = self->state;
  st.published = true;
  auto h = std::make_shared<net::service_health>();
  h->breaker = st.breaker ? mode_of(st.breaker->state()) : net::breaker_mode::closed;
  h->epoch = st.epoch;
  if (st.breaker) {
    // Half-open probes are split between workers, at least one each.
    auto probes = st.breaker_spec->half_open_probes;
    auto n = static_cast<uint32_t>(std::max<size_t>(1, st.workers.size()));
    h->probes_per_worker = std::max<uint32_t>(1, (probes + n - 1) / n);
  }
  if (st.outliers) {
    h->ejected = st.outliers->in_state(policy::endpoint_health::ejected);
    h->probation = st.outliers->in_state(policy::endpoint_health::probation);
  }
  // For the golden signals' report (the console) and /metrics.
  if (st.traffic->health_writer.load() == st.id) {
    st.traffic->breaker_mode.store(static_cast<int>(h->breaker), std::memory_order_relaxed);
    st.traffic->ejected.store(static_cast<uint32_t>(h->ejected.size()), std::memory_order_relaxed);
  }
  net::service_health_ptr ptr = std::move(h);
  handoff_release(ptr.get());
  for (auto& w : st.workers) {
    self->send(w, health_atom::value, st.service, ptr);
  }
}

// Schedules the next tick, if time can change anything: soon while the breaker is open (it
// half-opens) or an endpoint is ejected (its ejection ends); once an interval for the outlier
// detector's rate detectors; never for a closed or half-open breaker alone (probes close it).
void schedule_poll(self_ptr self) {
  auto& s = self->state;
  int64_t delay = -1;
  bool open = s.breaker && s.breaker->state() == policy::breaker_state::open;
  if (open || (s.outliers && s.outliers->ejected_count() > 0)) {
    delay = tick_interval.count();
  } else if (s.outliers) {
    delay = std::max<int64_t>(tick_interval.count(), s.outlier_spec->interval_ms);
  }
  auto now = now_ms(self);
  if (delay < 0) {
    ++s.poll_generation;  // a pending poll has nothing to do
    s.poll_due_ms = -1;
    return;
  }
  if (s.poll_due_ms >= 0 && s.poll_due_ms <= now + delay) {
    return;  // one comes soon enough
  }
  s.poll_due_ms = now + delay;
  self->delayed_send(self, std::chrono::milliseconds{delay}, poll_atom::value, ++s.poll_generation);
}

// Takes a new policy and endpoint set, keeping every piece of state they did not change.
// True when workers must hear of it.
bool configure(breaker_state& st, const config::service& svc, net::endpoint_names endpoints) {
  bool changed = !st.published;
  if (svc.breaker != st.breaker_spec) {
    // New settings start the breaker over (closed); unchanged ones keep an open breaker open.
    st.breaker_spec = svc.breaker;
    if (st.breaker_spec) {
      st.breaker.emplace(*st.breaker_spec);
    } else {
      st.breaker.reset();
    }
    changed = true;
  }
  if (svc.outlier != st.outlier_spec) {
    // New detection settings keep every endpoint's state: an ejection runs its course.
    st.outlier_spec = svc.outlier;
    if (!st.outlier_spec) {
      st.outliers.reset();
    } else if (st.outliers) {
      st.outliers->set_spec(*st.outlier_spec);
    } else {
      st.outliers.emplace(*st.outlier_spec);
    }
    changed = true;
  }
  std::sort(endpoints.begin(), endpoints.end(),
            [](const auto& a, const auto& b) { return a.id < b.id; });
  bool same_set = endpoints.size() == st.endpoints.size() &&
                  std::equal(endpoints.begin(), endpoints.end(), st.endpoints.begin(),
                             [](const auto& a, const auto& b) { return a.id == b.id; });
  st.endpoints = std::move(endpoints);
  if (st.outliers && (!same_set || changed)) {
    std::vector<policy::endpoint_id> ids;
    for (const auto& e : st.endpoints) {
      ids.push_back(e.id);
    }
    changed = st.outliers->set_endpoints(ids) || changed;
  }
  return changed;
}

const std::string& key_of(const breaker_state& st, net::endpoint_id id) {
  static const std::string unknown = "?";
  auto i = std::lower_bound(st.endpoints.begin(), st.endpoints.end(), id,
                            [](const auto& e, net::endpoint_id v) { return e.id < v; });
  return i != st.endpoints.end() && i->id == id ? i->key : unknown;
}

void log_change(self_ptr self, const char* what) {
  const auto& st = self->state;
  std::string ejected;
  if (st.outliers) {
    for (auto id : st.outliers->in_state(policy::endpoint_health::ejected)) {
      ejected += (ejected.empty() ? "" : ",") + key_of(st, id);
    }
  }
  log_info("breaker " + st.service + ": " + what + "; breaker " +
           (st.breaker ? policy::to_string(st.breaker->state()) : "off") + ", ejected [" + ejected +
           "]");
}

breaker_actor::behavior_type breaker(self_ptr self, node_context* ctx, std::string service,
                                     std::vector<worker_actor> workers) {
  auto& st = self->state;
  st.service = std::move(service);
  st.workers = std::move(workers);
  st.stats = ctx->actor_metrics.get("breaker");
  st.traffic = ctx->stats.get(st.service, net::direction::outbound);
  st.id = self->id();
  st.traffic->health_writer.store(st.id);  // the newest breaker of the service speaks for it
  return {
      [self](configure_atom, const config::service& svc, net::endpoint_names& endpoints) {
        metered_handler m{self};
        if (configure(self->state, svc, std::move(endpoints))) {
          log_change(self, "configured");
          publish(self);
        }
        schedule_poll(self);
      },
      [self](outcomes_atom, const net::outcome_batch& batch) {
        metered_handler m{self};
        auto& s = self->state;
        auto now = now_ms(self);
        bool changed = false;
        for (const auto& a : batch.attempts) {
          bool failure = a.status == 0 || a.status >= 500;
          if (s.breaker) {
            changed = s.breaker->record(now, failure) || changed;
          }
          if (s.outliers) {
            changed = s.outliers->record(now, a.endpoint, a.status) || changed;
          }
        }
        if (changed) {
          log_change(self, "outcomes");
          publish(self);
          schedule_poll(self);
        }
      },
      [self](poll_atom, uint64_t generation) {
        metered_handler m{self};
        auto& s = self->state;
        if (generation != s.poll_generation) {
          return;  // replaced by a sooner one
        }
        s.poll_due_ms = -1;
        auto now = now_ms(self);
        bool changed = false;
        if (s.breaker && s.breaker->tick(now)) {
          ++s.epoch;  // a new half-open round: fresh probe quotas
          changed = true;
        }
        if (s.outliers) {
          changed = s.outliers->tick(now) || changed;
        }
        if (changed) {
          log_change(self, "timer");
          publish(self);
        }
        schedule_poll(self);
      },
  };
}

}  // namespace

breaker_actor spawn_breaker(caf::actor_system& sys, node_context& ctx, std::string service,
                            std::vector<worker_actor> workers) {
  return sys.spawn(breaker, &ctx, std::move(service), std::move(workers));
}

std::shared_ptr<net::outcome_sink> make_outcome_sink(breaker_actor breaker) {
  return make_actor_sink<net::outcome_batch, outcomes_atom>(std::move(breaker));
}

}  // namespace am::actors
