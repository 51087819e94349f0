#include "actors/breaker.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <optional>

#include "actors/actor_clock.h"
#include "actors/log.h"
#include "net/service_health.h"
#include "policy/circuit_breaker.h"
#include "policy/outlier_detector.h"

namespace am::actors {

namespace {

// Open breakers half-open and ejections end on this tick.
constexpr auto tick_interval = std::chrono::milliseconds{25};

struct breaker_state {
  config::service policy;
  std::vector<worker_actor> workers;
  std::optional<policy::circuit_breaker> breaker;
  std::optional<policy::outlier_detector> outliers;
  uint64_t snapshot_version = 0;
  std::vector<std::string> keys;
  uint64_t epoch = 0;
  actor_stats* stats = nullptr;
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
  auto h = std::make_shared<net::service_health>();
  h->snapshot_version = st.snapshot_version;
  h->breaker = st.breaker ? mode_of(st.breaker->state()) : net::breaker_mode::closed;
  h->epoch = st.epoch;
  if (st.breaker) {
    // Half-open probes are split between workers, at least one each.
    auto probes = st.policy.breaker->half_open_probes;
    auto n = static_cast<uint32_t>(std::max<size_t>(1, st.workers.size()));
    h->probes_per_worker = std::max<uint32_t>(1, (probes + n - 1) / n);
  }
  if (st.outliers) {
    h->ejected.resize(st.outliers->size());
    h->probation.resize(st.outliers->size());
    for (size_t i = 0; i < st.outliers->size(); ++i) {
      h->ejected[i] = st.outliers->ejected(i);
      h->probation[i] = st.outliers->health(i) == policy::endpoint_health::probation;
    }
  }
  net::service_health_ptr ptr = std::move(h);
  for (auto& w : st.workers) {
    self->send(w, health_atom::value, st.policy.name, ptr);
  }
}

void log_change(self_ptr self, const char* what) {
  const auto& st = self->state;
  std::string ejected;
  if (st.outliers) {
    for (size_t i = 0; i < st.outliers->size(); ++i) {
      if (st.outliers->ejected(i)) {
        ejected += (ejected.empty() ? "" : ",") + st.keys[i];
      }
    }
  }
  log_info("breaker " + st.policy.name + ": " + what + "; breaker " +
           (st.breaker ? policy::to_string(st.breaker->state()) : "off") + ", ejected [" + ejected +
           "]");
}

breaker_actor::behavior_type breaker(self_ptr self, node_context* ctx, config::service policy,
                                     std::vector<worker_actor> workers) {
  auto& st = self->state;
  st.policy = std::move(policy);
  st.workers = std::move(workers);
  st.stats = ctx->actor_metrics.get("breaker");
  if (st.policy.breaker) {
    st.breaker.emplace(*st.policy.breaker);
  }
  self->delayed_send(self, tick_interval, poll_atom::value);
  return {
      [self](configure_atom, uint64_t version, const std::vector<std::string>& keys) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        auto& s = self->state;
        s.snapshot_version = version;
        if (keys != s.keys) {
          // A new endpoint set: detection starts over for it (indices changed meaning).
          s.keys = keys;
          if (s.policy.outlier) {
            s.outliers.emplace(*s.policy.outlier, keys.size());
          }
        }
        publish(self);
      },
      [self](outcomes_atom, const net::outcome_batch& batch) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        auto& s = self->state;
        if (batch.snapshot_version != s.snapshot_version) {
          return;  // indices of another endpoint set
        }
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
        }
      },
      [self](poll_atom) {
        auto& s = self->state;
        self->delayed_send(self, tick_interval, poll_atom::value);
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
      },
  };
}

class actor_outcome_sink final : public net::outcome_sink {
 public:
  explicit actor_outcome_sink(breaker_actor b) : breaker_(std::move(b)) {}
  void deliver(net::outcome_batch&& batch) override {
    caf::anon_send(breaker_, outcomes_atom::value, std::move(batch));
  }

 private:
  breaker_actor breaker_;
};

}  // namespace

breaker_actor spawn_breaker(caf::actor_system& sys, node_context& ctx, config::service policy,
                            std::vector<worker_actor> workers) {
  return sys.spawn(breaker, &ctx, std::move(policy), std::move(workers));
}

std::shared_ptr<net::outcome_sink> make_outcome_sink(breaker_actor breaker) {
  return std::make_shared<actor_outcome_sink>(std::move(breaker));
}

}  // namespace am::actors
