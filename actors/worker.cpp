#include "actors/worker.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "net/proxy_worker.h"

namespace am::actors {

namespace {

struct worker_state {
  // Last member: destroyed first, joining the loop thread before anything it uses goes.
  std::shared_ptr<net::proxy_worker> worker;
  std::vector<caf::typed_response_promise<bool>> drain_waiters;
  bool drained = false;
  actor_stats* stats = nullptr;

  ~worker_state() {
    if (worker) {
      worker->stop();
    }
  }
};

worker_actor::behavior_type worker(worker_actor::stateful_pointer<worker_state> self,
                                   node_context* ctx, std::shared_ptr<net::proxy_worker> w) {
  self->state.worker = std::move(w);
  self->state.stats = ctx->actor_metrics.get("worker");
  return {
      [self](snapshot_atom, const net::routing_snapshot_ptr& snapshot) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        self->state.worker->publish(snapshot);
      },
      [self](health_atom, std::string& service, net::service_health_ptr& health) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        self->state.worker->publish_health(std::move(service), std::move(health));
      },
      [self](lease_atom, std::string& service, uint64_t tokens) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        self->state.worker->publish_lease(std::move(service), tokens);
      },
      [self](drain_atom) -> caf::result<bool> {
        metered_handler m{self->state.stats, self->mailbox().size()};
        auto& st = self->state;
        if (st.drained) {
          return true;
        }
        auto promise = self->make_response_promise<bool>();
        bool first = st.drain_waiters.empty();
        st.drain_waiters.push_back(promise);
        if (first) {
          // The callback runs on the loop thread: it may only send, and must not keep the
          // actor alive, hence the weak handle.
          caf::weak_actor_ptr weak = self->ctrl();
          st.worker->drain([weak] {
            if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(weak)) {
              caf::anon_send(caf::actor_cast<worker_actor>(strong), drained_atom::value);
            }
          });
        }
        return promise;
      },
      [self](drained_atom) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        self->state.drained = true;
        for (auto& p : self->state.drain_waiters) {
          p.deliver(true);
        }
        self->state.drain_waiters.clear();
      },
  };
}

}  // namespace

worker_actor spawn_worker(caf::actor_system& sys, node_context& ctx,
                          std::shared_ptr<net::proxy_worker> worker) {
  return sys.spawn(actors::worker, &ctx, std::move(worker));
}

}  // namespace am::actors
