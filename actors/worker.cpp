#include "actors/worker.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <atomic>

#include "actors/tsan_handoff.h"
#include "actors/version_waiters.h"
#include "net/proxy_worker.h"

namespace am::actors {

namespace {

constexpr auto drain_poll = std::chrono::milliseconds{5};
// A snapshot is installed at the loop's next iteration: a millisecond is plenty, and polling
// happens only while a published snapshot is not yet in force.
constexpr auto install_poll = std::chrono::milliseconds{1};

struct worker_state {
  // Last member: destroyed first, joining the loop thread before anything it uses goes.
  std::shared_ptr<net::proxy_worker> worker;
  std::vector<caf::typed_response_promise<bool>> drain_waiters;
  // Who published which snapshot version and waits for it to be in force. The loop thread
  // never holds these (see drain): the actor polls the worker's installed version.
  version_waiters install_waiters;
  std::shared_ptr<std::atomic<bool>> drain_done;  // set by the loop thread
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
      [self](snapshot_atom, const net::routing_snapshot_ptr& snapshot) -> caf::result<uint64_t> {
        metered_handler m{self};
        handoff_acquire(snapshot.get());
        auto& st = self->state;
        auto version = snapshot->version;
        st.worker->publish(snapshot);
        auto promise = self->make_response_promise<uint64_t>();
        if (st.install_waiters.empty()) {
          self->delayed_send(self, install_poll, installed_atom::value);
        }
        st.install_waiters.add(version, promise);
        return promise;
      },
      [self](installed_atom) {
        metered_handler m{self};
        auto& waiters = self->state.install_waiters;
        waiters.reach(self->state.worker->installed_version());
        if (!waiters.empty()) {
          self->delayed_send(self, install_poll, installed_atom::value);
        }
      },
      [self](health_atom, std::string& service, net::service_health_ptr& health) {
        metered_handler m{self};
        handoff_acquire(health.get());
        self->state.worker->publish_health(std::move(service), std::move(health));
      },
      [self](lease_atom, std::string& service, uint64_t tokens) {
        metered_handler m{self};
        self->state.worker->publish_lease(std::move(service), tokens);
      },
      [self](weights_atom, const net::weight_table_ptr& table) {
        metered_handler m{self};
        handoff_acquire(table.get());
        self->state.worker->publish_weights(table);
      },
      [self](load_atom) {
        metered_handler m{self};
        self->state.worker->request_load_report();
      },
      [self](tap_atom, net::tap_set_ptr& taps, std::shared_ptr<net::tap_sink>& out) {
        metered_handler m{self};
        handoff_acquire(taps.get());
        self->state.worker->publish_taps(std::move(taps), std::move(out));
      },
      [self](drain_atom) -> caf::result<bool> {
        metered_handler m{self};
        auto& st = self->state;
        if (st.drained) {
          return true;
        }
        auto promise = self->make_response_promise<bool>();
        bool first = st.drain_waiters.empty();
        st.drain_waiters.push_back(promise);
        if (first) {
          // The loop thread only sets a flag that the actor polls. It must never hold a
          // reference to the actor: if the last one were released there, the state's
          // destructor would join the loop thread from itself.
          st.drain_done = std::make_shared<std::atomic<bool>>(false);
          st.worker->drain([done = st.drain_done] { done->store(true); });
          self->send(self, drained_atom::value);
        }
        return promise;
      },
      [self](drained_atom) {
        metered_handler m{self};
        if (!self->state.drain_done || !self->state.drain_done->load()) {
          self->delayed_send(self, drain_poll, drained_atom::value);
          return;
        }
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
