#include "actors/commander.h"

#include "actors/subscribers.h"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace am::actors {

namespace {

struct commander_state {
  service_map services;
  uint64_t version = 1;
  subscriber_list<services_sink> subscribers;
  actor_stats* stats = nullptr;
};

commander_actor::behavior_type commander(commander_actor::stateful_pointer<commander_state> self,
                                         node_context* ctx, service_map initial) {
  self->state.services = std::move(initial);
  self->state.stats = ctx->actor_metrics.get("commander");
  self->set_down_handler([self](const caf::down_msg& msg) { self->state.subscribers.remove(msg); });
  return {
      [self](subscribe_atom, services_sink sink) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        self->send(sink, services_atom::value, self->state.version, self->state.services);
        self->state.subscribers.add(self, std::move(sink));
      },
  };
}

}  // namespace

commander_actor spawn_commander(caf::actor_system& sys, node_context& ctx, service_map initial) {
  return sys.spawn(commander, &ctx, std::move(initial));
}

}  // namespace am::actors
