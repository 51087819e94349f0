#include "actors/control_gateway.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <algorithm>
#include <chrono>

#include "actors/log.h"

namespace am::actors {

namespace {

struct attached_sidecar {
  caf::actor link;  // null once it went away
  sidecar_status status;
  config::endpoint_table sent;  // the view it has: a discovery version that leaves it as it
                                // was is not sent again (status.endpoints_version stays)
};

struct gateway_state {
  node_context* ctx = nullptr;
  // In attach order. Replicas of one service often share a node name: a record is one
  // attached process, and a sidecar that re-attaches replaces only disconnected records.
  std::vector<attached_sidecar> sidecars;
  uint64_t endpoints_version = 0;
  config::endpoint_table endpoints;
  uint64_t document_version = 0;
  std::string document;
  global_lb_actor global_lb;
  signals_actor signals;
  std::vector<std::pair<caf::actor, config::tap_filter>> taps;  // by session
  actor_stats* stats = nullptr;
};

using self_ptr = control_gateway_actor::stateful_pointer<gateway_state>;

// Connected, disconnected and lagging sidecars, for /metrics.
void report(self_ptr self) {
  int64_t connected = 0, disconnected = 0, behind = 0;
  for (const auto& s : self->state.sidecars) {
    if (!s.status.connected) {
      ++disconnected;
      continue;
    }
    ++connected;
    behind += s.status.config_version < self->state.document_version ? 1 : 0;
  }
  self->state.ctx->status.set_sidecars(connected, disconnected, behind);
}

attached_sidecar* find_by_link(self_ptr self, const caf::actor_addr& addr) {
  for (auto& s : self->state.sidecars) {
    if (s.link && s.link.address() == addr) {
      return &s;
    }
  }
  return nullptr;
}

// Sends the sidecar its view of the endpoints (those of the services it uses) when it differs
// from the one it has, or always (`force`, on attach). A sidecar that has no view yet gets its
// first even when it is empty: a first version is what makes it ready.
void send_endpoints(self_ptr self, attached_sidecar& s, bool force) {
  auto& st = self->state;
  auto view = endpoints_for(st.endpoints, s.status.uses);
  if (!force && s.status.endpoints_version > 0 && view == s.sent) {
    return;
  }
  caf::anon_send(s.link, endpoints_atom::value, st.endpoints_version, view);
  s.sent = std::move(view);
  s.status.endpoints_version = st.endpoints_version;
}

// Ends a session's tap on every attached sidecar.
void untap(self_ptr self, const caf::actor_addr& session) {
  auto& taps = self->state.taps;
  auto i = std::find_if(taps.begin(), taps.end(),
                        [&](const auto& t) { return t.first.address() == session; });
  if (i == taps.end()) {
    return;
  }
  auto handle = std::move(i->first);
  taps.erase(i);
  for (auto& s : self->state.sidecars) {
    if (s.link) {
      caf::anon_send(s.link, untap_atom::value, handle);
    }
  }
}

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

control_gateway_actor::behavior_type gateway(self_ptr self, node_context* ctx,
                                             discovery_actor discovery, commander_actor commander,
                                             global_lb_actor global_lb, signals_actor signals) {
  self->state.ctx = ctx;
  self->state.global_lb = std::move(global_lb);
  self->state.signals = std::move(signals);
  self->state.stats = ctx->actor_metrics.get("control_gateway");
  report(self);
  self->send(discovery, subscribe_atom::value, endpoints_sink{self});
  self->send(commander, subscribe_atom::value, document_sink{self});
  self->set_down_handler([self](const caf::down_msg& msg) {
    metered_handler m{self};
    if (auto* s = find_by_link(self, msg.source)) {
      log_info("control gateway: sidecar " + s->status.name + " detached");
      s->link = nullptr;
      s->status.connected = false;
      report(self);
      return;
    }
    untap(self, msg.source);  // a tap session that ended without saying so
  });
  return {
      [self](endpoints_atom, uint64_t version, const config::endpoint_table& table) {
        metered_handler m{self};
        auto& st = self->state;
        st.endpoints_version = version;
        st.endpoints = table;
        for (auto& s : st.sidecars) {
          if (s.link) {
            send_endpoints(self, s, false);
          }
        }
      },
      [self](document_atom, uint64_t version, const std::string& text) {
        metered_handler m{self};
        auto& st = self->state;
        st.document_version = version;
        st.document = text;
        for (auto& s : st.sidecars) {
          if (s.link) {
            caf::anon_send(s.link, document_atom::value, version, text);
          }
        }
        report(self);
      },
      [self](attach_atom, caf::actor link, const std::string& name,
             const std::vector<std::string>& uses) {
        metered_handler m{self};
        auto& st = self->state;
        log_info("control gateway: sidecar " + name + " attached");
        std::erase_if(st.sidecars, [&](const attached_sidecar& old) {
          return !old.link && old.status.name == name;
        });
        auto& s = st.sidecars.emplace_back();
        s.link = std::move(link);
        s.status.name = name;
        s.status.connected = true;
        s.status.uses = uses;
        self->monitor(s.link);
        if (st.endpoints_version > 0) {
          send_endpoints(self, s, true);
        }
        if (st.document_version > 0) {
          caf::anon_send(s.link, document_atom::value, st.document_version, st.document);
        }
        for (const auto& [session, filter] : st.taps) {
          caf::anon_send(s.link, tap_atom::value, filter, session);
        }
        report(self);
      },
      [self](ack_atom, uint64_t version) {
        metered_handler m{self};
        auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
        if (auto* s = find_by_link(self, sender)) {
          s->status.config_version = version;
          s->status.acked_unix_ms = unix_ms_now();
          report(self);
        }
      },
      [self](load_atom, net::load_report& report) {
        metered_handler m{self};
        // Passed on as the sidecar's own, so that the global-lb answers its control link.
        if (self->state.global_lb) {
          caf::actor_cast<caf::abstract_actor*>(self->state.global_lb)
              ->eq_impl(caf::make_message_id(), self->current_sender(), self->context(),
                        load_atom::value, std::move(report));
        }
      },
      [self](signals_atom, config::signals_report& report) {
        metered_handler m{self};
        if (self->state.signals) {
          self->send(self->state.signals, signals_atom::value, std::move(report));
        }
      },
      [self](tap_atom, const config::tap_filter& filter, caf::actor session) {
        metered_handler m{self};
        untap(self, session.address());
        self->monitor(session);
        for (auto& s : self->state.sidecars) {
          if (s.link) {
            caf::anon_send(s.link, tap_atom::value, filter, session);
          }
        }
        self->state.taps.emplace_back(std::move(session), filter);
      },
      [self](untap_atom, const caf::actor& session) {
        metered_handler m{self};
        untap(self, session.address());
      },
      [self](status_atom) {
        metered_handler m{self};
        std::vector<sidecar_status> out;
        for (const auto& s : self->state.sidecars) {
          out.push_back(s.status);
        }
        return out;
      },
  };
}

}  // namespace

config::endpoint_table endpoints_for(const config::endpoint_table& table,
                                     const std::vector<std::string>& services) {
  if (services.empty()) {
    return table;
  }
  config::endpoint_table out;
  for (const auto& name : services) {
    auto it = table.find(name);
    if (it != table.end()) {
      out.insert(*it);
    }
  }
  return out;
}

control_gateway_actor spawn_control_gateway(caf::actor_system& sys, node_context& ctx,
                                            discovery_actor discovery, commander_actor commander,
                                            global_lb_actor global_lb, signals_actor signals) {
  return sys.spawn(gateway, &ctx, std::move(discovery), std::move(commander), std::move(global_lb),
                   std::move(signals));
}

}  // namespace am::actors
