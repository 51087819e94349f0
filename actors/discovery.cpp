#include "actors/discovery.h"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/log.h"
#include "actors/subscribers.h"

namespace am::actors {

namespace {

struct discovery_state {
  std::map<std::string, config::endpoint_table> sources;
  config::endpoint_table merged;
  uint64_t version = 0;
  subscriber_list<endpoints_sink> subscribers;
  actor_stats* stats = nullptr;
  node_context* ctx = nullptr;
};

discovery_actor::behavior_type discovery(discovery_actor::stateful_pointer<discovery_state> self,
                                         node_context* ctx) {
  self->state.ctx = ctx;
  self->state.stats = ctx->actor_metrics.get("discovery");
  self->set_down_handler([self](const caf::down_msg& msg) { self->state.subscribers.remove(msg); });
  return {
      [self](source_atom, const std::string& source, const config::endpoint_table& table) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        auto& st = self->state;
        st.sources[source] = table;
        auto merged = merge_sources(st.sources);
        if (merged == st.merged && st.version > 0) {
          return;  // nothing changed: no push
        }
        st.merged = std::move(merged);
        ++st.version;
        log_info("discovery: version " + std::to_string(st.version) + " from source " + source +
                 " (" + std::to_string(st.merged.size()) + " services)");
        for (auto& s : st.subscribers) {
          self->send(s, endpoints_atom::value, st.version, st.merged);
        }
      },
      [self](subscribe_atom, endpoints_sink sink) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        if (self->state.version > 0) {
          self->send(sink, endpoints_atom::value, self->state.version, self->state.merged);
        }
        self->state.subscribers.add(self, std::move(sink));
      },
  };
}

}  // namespace

config::endpoint_table merge_sources(const std::map<std::string, config::endpoint_table>& sources) {
  config::endpoint_table merged;
  for (const auto& [source, table] : sources) {
    for (const auto& [service, endpoints] : table) {
      auto& out = merged[service];
      for (const auto& ep : endpoints) {
        auto same = [&](const config::endpoint& e) {
          return e.address == ep.address && e.port == ep.port;
        };
        if (std::none_of(out.begin(), out.end(), same)) {
          out.push_back(ep);
        }
      }
    }
  }
  return merged;
}

discovery_actor spawn_discovery(caf::actor_system& sys, node_context& ctx) {
  return sys.spawn(discovery, &ctx);
}

}  // namespace am::actors
