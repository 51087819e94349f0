#include "actors/control_gateway.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/log.h"
#include "actors/subscribers.h"

namespace am::actors {

namespace {

struct gateway_state {
  subscriber_list<caf::actor> sidecars;
  uint64_t endpoints_version = 0;
  config::endpoint_table endpoints;
  uint64_t document_version = 0;
  std::string document;
  actor_stats* stats = nullptr;
};

using self_ptr = control_gateway_actor::stateful_pointer<gateway_state>;

control_gateway_actor::behavior_type gateway(self_ptr self, node_context* ctx,
                                             discovery_actor discovery, commander_actor commander) {
  self->state.stats = ctx->actor_metrics.get("control_gateway");
  self->send(discovery, subscribe_atom::value, endpoints_sink{self});
  self->send(commander, subscribe_atom::value, document_sink{self});
  self->set_down_handler([self](const caf::down_msg& msg) {
    log_info("control gateway: a sidecar detached");
    self->state.sidecars.remove(msg);
  });
  return {
      [self](endpoints_atom, uint64_t version, const config::endpoint_table& table) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        auto& st = self->state;
        st.endpoints_version = version;
        st.endpoints = table;
        for (auto& s : st.sidecars) {
          caf::anon_send(s, endpoints_atom::value, version, table);
        }
      },
      [self](document_atom, uint64_t version, const std::string& text) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        auto& st = self->state;
        st.document_version = version;
        st.document = text;
        for (auto& s : st.sidecars) {
          caf::anon_send(s, document_atom::value, version, text);
        }
      },
      [self](attach_atom, caf::actor sidecar) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        auto& st = self->state;
        log_info("control gateway: a sidecar attached");
        if (st.endpoints_version > 0) {
          caf::anon_send(sidecar, endpoints_atom::value, st.endpoints_version, st.endpoints);
        }
        if (st.document_version > 0) {
          caf::anon_send(sidecar, document_atom::value, st.document_version, st.document);
        }
        st.sidecars.add(self, std::move(sidecar));
      },
  };
}

}  // namespace

control_gateway_actor spawn_control_gateway(caf::actor_system& sys, node_context& ctx,
                                            discovery_actor discovery, commander_actor commander) {
  return sys.spawn(gateway, &ctx, std::move(discovery), std::move(commander));
}

}  // namespace am::actors
