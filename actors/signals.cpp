#include "actors/signals.h"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <map>

namespace am::actors {

namespace {

// Pairs silent for longer than the longest window are dropped this often.
constexpr auto expire_interval = std::chrono::seconds{60};

// A sidecar with breakers open or endpoints ejected says so every second: an older word is
// from one that stopped reporting.
constexpr int64_t health_max_age_ms = 5000;

struct signals_state {
  lb::signal_windows windows{{net::latency_bounds_us.begin(), net::latency_bounds_us.end()}};
  // Each sidecar's latest health (not empty) and when it said so.
  std::map<std::string, std::pair<int64_t, std::vector<config::service_health_signal>>> health;
  actor_stats* stats = nullptr;
};

using self_ptr = signals_actor::stateful_pointer<signals_state>;

int64_t now_ms(self_ptr self) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             self->clock().now().time_since_epoch())
      .count();
}

signals_actor::behavior_type signals(self_ptr self, node_context* ctx) {
  self->state.stats = ctx->actor_metrics.get("signals");
  self->delayed_send(self, expire_interval, poll_atom::value);
  return {
      [self](signals_atom, const config::signals_report& report) {
        metered_handler m{self};
        auto now = now_ms(self);
        self->state.windows.add(report, now);
        if (report.health.empty()) {
          self->state.health.erase(report.sidecar);
        } else {
          self->state.health[report.sidecar] = {now, report.health};
        }
      },
      [self](health_atom) {
        metered_handler m{self};
        auto now = now_ms(self);
        config::health_by_sidecar out;
        for (const auto& [sidecar, latest] : self->state.health) {
          if (now - latest.first <= health_max_age_ms) {
            out.emplace(sidecar, latest.second);
          }
        }
        return out;
      },
      [self](stat_atom, const lb::signal_query& q) {
        metered_handler m{self};
        return self->state.windows.query(q, now_ms(self));
      },
      [self](poll_atom) {
        metered_handler m{self};
        self->delayed_send(self, expire_interval, poll_atom::value);
        auto now = now_ms(self);
        self->state.windows.expire(now);
        std::erase_if(self->state.health,
                      [&](const auto& h) { return now - h.second.first > health_max_age_ms; });
      },
  };
}

}  // namespace

signals_actor spawn_signals(caf::actor_system& sys, node_context& ctx) {
  return sys.spawn(signals, &ctx);
}

}  // namespace am::actors
