#include "actors/retry.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/actor_clock.h"
#include "actors/actor_sink.h"
#include "net/service_health.h"
#include "policy/retry_budget.h"

namespace am::actors {

namespace {

struct retry_state {
  std::string service;
  config::retry_budget_spec spec;
  std::vector<worker_actor> workers;
  std::optional<policy::retry_budget> budget;
  actor_stats* stats = nullptr;
};

using self_ptr = retry_actor::stateful_pointer<retry_state>;

retry_actor::behavior_type retry(self_ptr self, node_context* ctx, config::service policy,
                                 std::vector<worker_actor> workers) {
  auto& st = self->state;
  st.service = policy.name;
  st.workers = std::move(workers);
  st.spec = policy.retry_budget;
  st.budget.emplace(st.spec);
  st.stats = ctx->actor_metrics.get("retry");
  auto first = st.budget->lease(now_ms(self), static_cast<unsigned>(st.workers.size()));
  for (auto& w : st.workers) {
    self->send(w, lease_atom::value, st.service, first);
  }
  return {
      [self](configure_atom, const config::retry_budget_spec& spec) {
        metered_handler m{self};
        if (!(spec == self->state.spec)) {
          self->state.spec = spec;
          self->state.budget.emplace(spec);
        }
      },
      [self](usage_atom, const net::usage_report& report) {
        metered_handler m{self};
        auto& s = self->state;
        auto now = now_ms(self);
        s.budget->record(now, report.requests, report.retries);
        if (report.worker < s.workers.size()) {
          auto tokens = s.budget->lease(now, static_cast<unsigned>(s.workers.size()));
          self->send(s.workers[report.worker], lease_atom::value, s.service, tokens);
        }
      },
  };
}

}  // namespace

retry_actor spawn_retry(caf::actor_system& sys, node_context& ctx, config::service policy,
                        std::vector<worker_actor> workers) {
  return sys.spawn(retry, &ctx, std::move(policy), std::move(workers));
}

std::shared_ptr<net::usage_sink> make_usage_sink(retry_actor actor) {
  return make_actor_sink<net::usage_report, usage_atom>(std::move(actor));
}

}  // namespace am::actors
