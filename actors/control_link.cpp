#include "actors/control_link.h"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>

#include <algorithm>

#include "actors/log.h"
#include "config/load.h"

namespace am::actors {

namespace {

constexpr auto connect_timeout = std::chrono::seconds{3};
constexpr auto first_backoff = std::chrono::milliseconds{100};
constexpr auto max_backoff = std::chrono::milliseconds{5000};

struct link_state {
  node_context* ctx = nullptr;
  sidecar_actor sidecar;
  caf::actor gateway;
  std::chrono::milliseconds backoff = first_backoff;
  actor_stats* stats = nullptr;
};

using self_ptr = caf::stateful_actor<link_state>*;

std::string target(self_ptr self) {
  const auto& cp = self->state.ctx->config.control_plane;
  return cp.address + ":" + std::to_string(cp.port);
}

void retry_later(self_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.backoff, reconnect_atom::value);
  st.backoff = std::min(max_backoff, st.backoff * 2);
}

void connect(self_ptr self) {
  const auto& cp = self->state.ctx->config.control_plane;
  // With TLS the openssl manager connects (the same interface as the middleman's actor).
  auto mm = self->state.ctx->config.tls.enabled() ? self->system().openssl_manager().actor_handle()
                                                  : self->system().middleman().actor_handle();
  self->request(mm, connect_timeout, caf::connect_atom::value, cp.address, cp.port)
      .then(
          [self](const caf::node_id&, caf::strong_actor_ptr& ptr, const std::set<std::string>&) {
            metered_handler reply{self};
            auto& st = self->state;
            if (!ptr) {
              retry_later(self);
              return;
            }
            st.gateway = caf::actor_cast<caf::actor>(ptr);
            self->monitor(st.gateway);
            const auto& node = st.ctx->config;
            self->send(st.gateway, attach_atom::value, caf::actor_cast<caf::actor>(self), node.name,
                       node.sidecar.uses);
            st.backoff = first_backoff;
            st.ctx->status.set_control_plane(true);
            log_info("control link: attached to " + target(self));
          },
          [self](caf::error& e) {
            metered_handler reply{self};
            log_warn("control link: cannot reach " + target(self) + ": " +
                     self->system().render(e) + "; retrying");
            retry_later(self);
          });
}

caf::behavior control_link(self_ptr self, node_context* ctx, sidecar_actor sidecar) {
  auto& st = self->state;
  st.ctx = ctx;
  st.sidecar = std::move(sidecar);
  st.stats = ctx->actor_metrics.get("control_link");
  st.ctx->status.set_control_plane(false);
  self->set_down_handler([self](const caf::down_msg& msg) {
    metered_handler m{self};
    if (msg.source != self->state.gateway.address()) {
      return;
    }
    self->state.gateway = nullptr;
    self->state.ctx->status.set_control_plane(false);
    log_warn("control link: lost " + target(self) + "; serving the last known config");
    retry_later(self);
  });
  connect(self);
  return {
      [self](reconnect_atom) {
        metered_handler m{self};
        connect(self);
      },
      // The sidecar's load report goes to the control plane's global-lb through the gateway;
      // its weights come back here (while detached, reports are dropped: the sidecar falls
      // back to local balancing as its weights age).
      [self](load_atom, const net::load_report& report) {
        metered_handler m{self};
        if (self->state.gateway) {
          self->send(self->state.gateway, load_atom::value, report);
        }
      },
      // Golden signals go the same way, to the control plane's signals actor.
      [self](signals_atom, const config::signals_report& report) {
        metered_handler m{self};
        if (self->state.gateway) {
          self->send(self->state.gateway, signals_atom::value, report);
        }
      },
      // Taps: the gateway passes on a session's filter and its end; events go from the
      // sidecar straight to the session.
      [self](tap_atom, const config::tap_filter& filter, const caf::actor& session) {
        metered_handler m{self};
        self->send(self->state.sidecar, tap_atom::value, filter, session);
      },
      [self](untap_atom, const caf::actor& session) {
        metered_handler m{self};
        self->send(self->state.sidecar, untap_atom::value, session);
      },
      [self](weights_atom, const net::weight_table& table) {
        metered_handler m{self};
        self->send(self->state.sidecar, weights_atom::value, table);
      },
      [self](endpoints_atom, uint64_t version, const config::endpoint_table& table) {
        metered_handler m{self};
        self->send(self->state.sidecar, endpoints_atom::value, version, table);
      },
      [self](document_atom, uint64_t version, const std::string& text) {
        metered_handler m{self};
        auto parsed = config::parse_mesh_config(text);
        if (!parsed.ok()) {
          // The commander validated it: a mismatch means different versions of actormesh.
          // No ack: the control plane's status shows this sidecar behind.
          log_error("control link: rejected config version " + std::to_string(version) + ":\n" +
                    parsed.describe("control plane"));
          return;
        }
        self->send(self->state.sidecar, services_atom::value, version, *parsed.value);
        // Acknowledged once every worker routes with it: an ack means "in force". The
        // sidecar's mailbox is ordered, so the question comes after the version itself.
        self->request(self->state.sidecar, caf::infinite, in_force_atom::value, version)
            .then(
                [self](uint64_t in_force) {
                  metered_handler reply{self};
                  if (self->state.gateway) {
                    self->send(self->state.gateway, ack_atom::value, in_force);
                  }
                },
                [](caf::error&) {});  // the sidecar is stopping: no ack
      },
  };
}

}  // namespace

caf::actor spawn_control_link(caf::actor_system& sys, node_context& ctx, sidecar_actor sidecar) {
  return sys.spawn(control_link, &ctx, std::move(sidecar));
}

}  // namespace am::actors
