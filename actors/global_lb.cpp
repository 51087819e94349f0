#include "actors/global_lb.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <map>
#include <unordered_map>

#include "actors/actor_clock.h"
#include "actors/log.h"
#include "lb/global_weights.h"

namespace am::actors {

namespace {

constexpr auto interval = std::chrono::seconds{1};
constexpr int64_t interval_ms = 1000;
// A sidecar silent for longer gets no weights (they would only be dropped as stale), and is
// forgotten a little later.
constexpr int64_t quiet_ms = 3000;
constexpr int64_t forget_ms = 30'000;

// A sidecar's latest report (each covers about a second) and where its weights go. Every
// window counts each sidecar that reported lately once, with its latest report, so that the
// windows of the global-lb and the sidecars' reports need not be aligned.
struct reporting_sidecar {
  caf::actor reply_to;
  int64_t last_ms = 0;
  std::vector<net::service_load_report> services;
  std::string services_key;  // their names: sidecars with the same set share one message
};

// What the last window showed of one endpoint, for the operator view.
struct endpoint_view {
  uint32_t weight = 0;
  double requests_per_s = 0;
  double mean_latency_ms = 0;
  uint64_t errors = 0;
  uint64_t active = 0;      // in flight, summed over the sidecars' last reports
  uint32_t ejected_by = 0;  // sidecars whose outlier detection ejected it
};

// One endpoint's reports, being merged for a window.
struct merged_endpoint {
  lb::endpoint_load load;
  uint64_t active = 0;
  uint32_t ejected = 0;
};

struct service_table {
  lb::global_weights weights;
  std::unordered_map<std::string, merged_endpoint> merging;
  size_t reporters = 0;
  std::map<std::string, endpoint_view> current;  // the last tick's
  size_t sidecars = 0;                           // the last tick's
  int64_t computed_ms = -1;
};

struct global_lb_state {
  // By the reporting actor (replicas of a service often share a node name).
  std::map<caf::actor_addr, reporting_sidecar> sidecars;
  std::map<std::string, service_table> services;
  uint64_t version = 0;
  actor_stats* stats = nullptr;
};

using self_ptr = global_lb_actor::stateful_pointer<global_lb_state>;

void merge(service_table& t, const net::service_load_report& r) {
  ++t.reporters;
  for (const auto& e : r.endpoints) {
    auto& m = t.merging[e.endpoint];
    m.load.requests += e.requests;
    m.load.errors += e.errors;
    m.load.latency_sum_s += static_cast<double>(e.latency_us) / 1e6;
    m.active += e.active;
    m.ejected += e.ejected ? 1 : 0;
  }
}

// The weights message for a set of services (built once per set and tick, shared by every
// sidecar that uses that set: CAF messages are copy-on-write).
caf::message weights_message(global_lb_state& st, const reporting_sidecar& s) {
  net::weight_table table;
  table.version = st.version;
  for (const auto& report : s.services) {
    const auto& t = st.services[report.service];
    auto& out = table.services.emplace_back();
    out.service = report.service;
    for (const auto& [endpoint, v] : t.current) {
      out.endpoints.push_back(endpoint);
      out.weights.push_back(v.weight);
    }
  }
  return caf::make_message(weights_atom::value, std::move(table));
}

// One window: new weights for every service that was reported, and each sidecar's share.
void tick(self_ptr self) {
  auto& st = self->state;
  auto now = now_ms(self);
  ++st.version;
  for (auto i = st.sidecars.begin(); i != st.sidecars.end();) {
    if (now - i->second.last_ms > forget_ms) {
      i = st.sidecars.erase(i);
      continue;
    }
    if (now - i->second.last_ms <= quiet_ms) {
      for (const auto& report : i->second.services) {
        merge(st.services[report.service], report);
      }
    }
    ++i;
  }
  for (auto& [name, t] : st.services) {
    if (t.reporters == 0) {
      continue;  // nobody uses it now: its weights stay as they were
    }
    std::map<std::string, lb::endpoint_load> window;
    for (const auto& [endpoint, m] : t.merging) {
      window.emplace(endpoint, m.load);
    }
    const auto& weights = t.weights.update(window);
    t.current.clear();
    for (const auto& [endpoint, w] : weights) {
      const auto& m = t.merging[endpoint];
      endpoint_view v;
      v.weight = w;
      v.requests_per_s = static_cast<double>(m.load.requests) * 1000.0 / interval_ms;
      v.mean_latency_ms = m.load.requests > 0
                              ? m.load.latency_sum_s * 1000 / static_cast<double>(m.load.requests)
                              : 0;
      v.errors = m.load.errors;
      v.active = m.active;
      v.ejected_by = m.ejected;
      t.current[endpoint] = v;
    }
    t.sidecars = t.reporters;
    t.computed_ms = now;
    t.merging.clear();
    t.reporters = 0;
  }
  std::unordered_map<std::string, caf::message> messages;
  for (auto& [name, s] : st.sidecars) {
    if (now - s.last_ms <= quiet_ms) {
      auto [m, fresh] = messages.try_emplace(s.services_key);
      if (fresh) {
        m->second = weights_message(st, s);
      }
      caf::unsafe_send_as(self, s.reply_to, m->second);
    }
  }
}

lb_table table_of(self_ptr self, const std::string& service) {
  auto& st = self->state;
  lb_table out;
  out.service = service;
  auto i = st.services.find(service);
  if (i == st.services.end() || i->second.computed_ms < 0) {
    return out;
  }
  const auto& t = i->second;
  out.known = true;
  out.version = st.version;
  out.age_ms = now_ms(self) - t.computed_ms;
  out.sidecars = t.sidecars;
  for (const auto& [endpoint, v] : t.current) {
    out.endpoints.push_back({endpoint, v.weight, v.requests_per_s, v.mean_latency_ms, v.errors,
                             v.active, v.ejected_by});
  }
  return out;
}

global_lb_actor::behavior_type global_lb(self_ptr self, node_context* ctx) {
  self->state.stats = ctx->actor_metrics.get("global_lb");
  self->delayed_send(self, interval, poll_atom::value);
  log_info("global-lb: up");
  return {
      [self](load_atom, net::load_report& report) {
        metered_handler m{self};
        auto sender = caf::actor_cast<caf::actor>(self->current_sender());
        auto& s = self->state.sidecars[sender.address()];
        s.reply_to = std::move(sender);
        s.last_ms = now_ms(self);
        s.services = std::move(report.services);
        s.services_key.clear();
        for (const auto& r : s.services) {
          s.services_key += r.service;
          s.services_key += '\n';
        }
      },
      [self](lb_status_atom, const std::string& service) {
        metered_handler m{self};
        return table_of(self, service);
      },
      [self](poll_atom) {
        metered_handler m{self};
        self->delayed_send(self, interval, poll_atom::value);
        tick(self);
      },
  };
}

}  // namespace

global_lb_actor spawn_global_lb(caf::actor_system& sys, node_context& ctx) {
  return sys.spawn(global_lb, &ctx);
}

}  // namespace am::actors
