#include "federation/gateway.h"

#include <caf/actor_system.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>

#include "actors/log.h"
#include "actors/subscribers.h"
#include "actors/tls_remoting.h"
#include "federation/exports.h"

namespace am::federation {

namespace {

using namespace am::actors;
using std::chrono::milliseconds;

constexpr auto connect_timeout = std::chrono::seconds{3};
constexpr auto hello_timeout = std::chrono::seconds{3};
constexpr auto first_backoff = milliseconds{100};
constexpr auto max_backoff = milliseconds{5000};

int64_t unix_ms_now() {
  return std::chrono::duration_cast<milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int64_t steady_us_now() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

struct peer_link {
  config::federation_peer config;
  // Of two peers, the one whose cluster name sorts first connects, the other waits for its
  // hello: one middleman connection per pair (two, one each way, flap under TLS).
  bool dials = false;
  caf::actor gateway;      // its gateway while the middleman links us (null: not linked)
  bool connected = false;  // linked, and its hello answer was right
  bool up = false;         // answering pings
  bool stale = false;      // down, its services kept as last known
  uint64_t epoch = 0;      // bumped when it goes stale or comes back: older withdrawals are void
  milliseconds backoff = first_backoff;
  bool ping_in_flight = false;
  int64_t last_heard_unix_ms = 0;
  int64_t rtt_us = -1;
  config::export_list imported;  // its exports as last heard

  std::string describe() const {
    return config.name + " (" + config.address + ":" + std::to_string(config.port) + ")";
  }
};

struct gateway_state {
  node_context* ctx = nullptr;
  discovery_actor discovery;
  std::vector<peer_link> peers;
  std::vector<gateway_actor> importers;  // peers' gateways that said hello: they get our exports
  config::endpoint_table local;          // this cluster's own endpoints
  uint64_t endpoints_version = 0;
  service_map services;
  config::export_list exports;               // as last sent
  subscriber_list<endpoints_sink> sidecars;  // the node's own (the ingress)
  actor_stats* stats = nullptr;

  const config::federation_settings& settings() const { return ctx->config.federation; }
};

using self_ptr = gateway_actor::stateful_pointer<gateway_state>;

peer_link* find_peer(self_ptr self, const std::string& name) {
  for (auto& p : self->state.peers) {
    if (p.config.name == name) {
      return &p;
    }
  }
  return nullptr;
}

void publish_status(self_ptr self) {
  auto& st = self->state;
  federation_status out;
  out.cluster = st.settings().cluster;
  for (const auto& e : st.exports) {
    out.exported.push_back(e.name);
  }
  for (const auto& p : st.peers) {
    federation_peer_status s;
    s.name = p.config.name;
    s.address = p.config.address + ":" + std::to_string(p.config.port);
    s.connected = p.connected;
    s.up = p.up;
    s.stale = p.stale;
    s.last_heard_unix_ms = p.last_heard_unix_ms;
    s.rtt_us = p.rtt_us;
    for (const auto& e : p.imported) {
      s.imported[e.name] = e.endpoints;
    }
    out.peers.push_back(std::move(s));
  }
  st.ctx->status.set_federation(std::move(out));
}

// The peer's exports as its discovery source (an empty one withdraws them).
void import(self_ptr self, const peer_link& p) {
  self->send(self->state.discovery, source_atom::value, "federation:" + p.config.name,
             imports_of(p.config, p.imported));
}

// Recomputes what this cluster exports and, when it changed, tells every peer.
void update_exports(self_ptr self) {
  auto& st = self->state;
  if (st.endpoints_version == 0) {
    return;  // not before discovery's first version: "nothing here" would be untrue
  }
  auto now = exports_of(st.local, st.services, st.settings().ingress, st.ctx->config.tls.enabled());
  if (now == st.exports) {
    return;
  }
  st.exports = std::move(now);
  std::string what;
  for (const auto& e : st.exports) {
    what += (what.empty() ? "" : ", ") + e.name + " (" + std::to_string(e.endpoints) + ")";
  }
  log_info("federation: exporting " + (what.empty() ? std::string{"nothing"} : what) + " to " +
           std::to_string(st.importers.size()) + " linked peers");
  for (const auto& to : st.importers) {
    self->send(to, exports_atom::value, st.settings().cluster, st.exports);
  }
  publish_status(self);
}

// A peer that stopped answering: its services stay as last known, marked stale, until it
// answers again or stale_after passes.
void mark_down(self_ptr self, peer_link& p, const std::string& why) {
  bool was_up = p.up;
  p.up = false;
  if (!p.stale && !p.imported.empty()) {
    p.stale = true;
    ++p.epoch;
    self->delayed_send(self, self->state.settings().stale_after, withdraw_atom::value,
                       p.config.name, p.epoch);
  }
  if (was_up) {
    log_warn("federation: peer " + p.describe() + " " + why +
             "; its services stay as last known (stale) until it answers or stale_after");
  }
  publish_status(self);
}

void mark_up(self_ptr self, peer_link& p) {
  p.last_heard_unix_ms = unix_ms_now();
  if (p.stale) {
    p.stale = false;
    ++p.epoch;
  }
  if (!p.up) {
    p.up = true;
    log_info("federation: peer " + p.describe() + " up");
  }
  publish_status(self);
}

void retry_later(self_ptr self, peer_link& p) {
  self->delayed_send(self, p.backoff, reconnect_atom::value, p.config.name);
  p.backoff = std::min(max_backoff, p.backoff * 2);
}

// Forgets the link (lost, refused, or its hello failed); one this side dials is tried again
// later, the other waits for the peer's next hello.
void drop_link(self_ptr self, peer_link& p, const std::string& why) {
  if (p.gateway) {
    self->demonitor(p.gateway);
  }
  p.gateway = nullptr;
  p.connected = false;
  p.ping_in_flight = false;
  mark_down(self, p, why);
  if (p.dials) {
    retry_later(self, p);
  }
}

void say_hello(self_ptr self, const peer_link& link) {
  auto name = link.config.name;
  self->request(link.gateway, hello_timeout, hello_atom::value, protocol_version,
                self->state.settings().cluster, caf::actor_cast<caf::actor>(self))
      .then(
          [self, name](uint32_t version, const std::string& cluster) {
            metered_handler reply{self};
            auto* p = find_peer(self, name);
            if (p == nullptr || !p->gateway) {
              return;
            }
            if (version != protocol_version) {
              log_error("federation: peer " + p->describe() + " speaks federation protocol " +
                        std::to_string(version) + ", this gateway " +
                        std::to_string(protocol_version) + ": refused");
              drop_link(self, *p, "refused");
              return;
            }
            if (cluster != name) {
              log_error("federation: the gateway at " + p->describe() + " is cluster '" + cluster +
                        "', not the '" + name + "' federation.peers names: refused");
              drop_link(self, *p, "refused");
              return;
            }
            p->connected = true;
            p->backoff = first_backoff;
            log_info("federation: linked to peer " + p->describe());
            mark_up(self, *p);
          },
          [self, name](caf::error& e) {
            metered_handler reply{self};
            if (auto* p = find_peer(self, name); p != nullptr && p->gateway) {
              log_warn("federation: peer " + p->describe() +
                       " answered no hello: " + self->system().render(e));
              drop_link(self, *p, "unlinked");
            }
          });
}

void connect(self_ptr self, const peer_link& link) {
  auto& sys = self->system();
  // With TLS the openssl manager connects (the same interface as the middleman's actor).
  auto mm = self->state.ctx->config.tls.enabled() ? sys.openssl_manager().actor_handle()
                                                  : sys.middleman().actor_handle();
  auto name = link.config.name;
  self->request(mm, connect_timeout, caf::connect_atom::value, link.config.address,
                link.config.port)
      .then(
          [self, name](const caf::node_id&, caf::strong_actor_ptr& ptr,
                       const std::set<std::string>&) {
            metered_handler reply{self};
            auto* p = find_peer(self, name);
            if (p == nullptr || p->gateway) {
              return;
            }
            if (!ptr) {
              log_warn("federation: nothing published at peer " + p->describe());
              retry_later(self, *p);
              return;
            }
            p->gateway = caf::actor_cast<caf::actor>(ptr);
            self->monitor(p->gateway);
            say_hello(self, *p);
          },
          [self, name](caf::error& e) {
            metered_handler reply{self};
            if (auto* p = find_peer(self, name)) {
              if (p->backoff == first_backoff || p->connected) {
                log_warn("federation: cannot reach peer " + p->describe() + ": " +
                         self->system().render(e) + "; retrying");
              }
              retry_later(self, *p);
            }
          });
}

// Every heartbeat: a ping to each linked peer; no answer within peer_timeout marks it down.
void ping_peers(self_ptr self) {
  auto& st = self->state;
  for (auto& link : st.peers) {
    if (!link.connected || link.ping_in_flight) {
      continue;
    }
    link.ping_in_flight = true;
    auto name = link.config.name;
    self->request(link.gateway, st.settings().peer_timeout, ping_atom::value, steady_us_now())
        .then(
            [self, name](int64_t sent_us) {
              metered_handler reply{self};
              if (auto* p = find_peer(self, name)) {
                p->ping_in_flight = false;
                p->rtt_us = steady_us_now() - sent_us;
                mark_up(self, *p);
              }
            },
            [self, name](caf::error&) {
              metered_handler reply{self};
              if (auto* p = find_peer(self, name)) {
                p->ping_in_flight = false;
                if (p->connected) {
                  mark_down(self, *p, "said nothing for federation.peer_timeout");
                }
              }
            });
  }
  self->delayed_send(self, st.settings().heartbeat, poll_atom::value);
}

void on_down(self_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  st.sidecars.remove(msg);
  std::erase_if(st.importers, [&](const gateway_actor& a) { return a.address() == msg.source; });
  for (auto& p : st.peers) {
    if (p.gateway && p.gateway.address() == msg.source) {
      drop_link(self, p, "link lost");
    }
  }
}

gateway_actor::behavior_type gateway(self_ptr self, node_context* ctx, discovery_actor discovery,
                                     commander_actor commander) {
  auto& init = self->state;
  init.ctx = ctx;
  init.discovery = std::move(discovery);
  init.stats = ctx->actor_metrics.get("federation_gateway");
  for (const auto& peer : init.settings().peers) {
    auto& link = init.peers.emplace_back();
    link.config = peer;
    link.dials = init.settings().cluster < peer.name;
  }
  self->set_down_handler([self](const caf::down_msg& msg) {
    metered_handler m{self};
    on_down(self, msg);
  });
  self->send(init.discovery, subscribe_atom::value, caf::actor_cast<endpoints_sink>(self));
  self->send(commander, subscribe_atom::value, caf::actor_cast<services_sink>(self));
  for (auto& p : init.peers) {
    if (p.dials) {
      connect(self, p);
    }
  }
  self->send(self, poll_atom::value);
  publish_status(self);
  return {
      [self](hello_atom, uint32_t version, const std::string& cluster,
             const caf::actor& from) -> caf::result<uint32_t, std::string> {
        metered_handler m{self};
        auto& st = self->state;
        auto* p = find_peer(self, cluster);
        std::string refused;
        if (version != protocol_version) {
          refused = "it speaks federation protocol " + std::to_string(version) + ", this gateway " +
                    std::to_string(protocol_version);
        } else if (p == nullptr) {
          refused = "it is not in federation.peers";
        } else if (!from) {
          refused = "it gave no handle";
        }
        if (!refused.empty()) {
          log_error("federation: cluster " + cluster + " refused: " + refused);
          return caf::make_error(caf::sec::runtime_error,
                                 "cluster " + st.settings().cluster + " refused: " + refused);
        }
        auto importer = caf::actor_cast<gateway_actor>(from);
        self->monitor(importer);
        self->send(importer, exports_atom::value, st.settings().cluster, st.exports);
        st.importers.push_back(std::move(importer));
        log_info("federation: cluster " + cluster + " imports from this gateway");
        if (!p->dials && p->gateway != from) {
          // It dialled: this side's hello goes back over the same connection.
          if (p->gateway) {
            self->demonitor(p->gateway);
          }
          p->gateway = from;
          p->connected = false;
          self->monitor(p->gateway);
          say_hello(self, *p);
        }
        return {protocol_version, st.settings().cluster};
      },
      [self](exports_atom, const std::string& cluster, config::export_list& list) {
        metered_handler m{self};
        auto* p = find_peer(self, cluster);
        auto sender = caf::actor_cast<caf::actor_addr>(self->current_sender());
        if (p == nullptr || !p->gateway || p->gateway.address() != sender) {
          return;  // not a peer this gateway linked to: nothing of it is imported
        }
        p->imported = std::move(list);
        std::string what;
        for (const auto& e : p->imported) {
          what += (what.empty() ? "" : ", ") + e.name + " (" + std::to_string(e.endpoints) + ")";
        }
        log_info("federation: peer " + p->describe() + " exports " +
                 (what.empty() ? std::string{"nothing"} : what));
        import(self, *p);
        mark_up(self, *p);
      },
      [](ping_atom, int64_t sent_us) { return sent_us; },
      [self](endpoints_atom, uint64_t version, const config::endpoint_table& table) {
        metered_handler m{self};
        auto& st = self->state;
        auto local = local_endpoints(table, st.settings().cluster);
        bool first = st.endpoints_version == 0;
        st.endpoints_version = version;
        if (first || local != st.local) {
          st.local = std::move(local);
          for (auto& s : st.sidecars) {
            self->send(s, endpoints_atom::value, version, st.local);
          }
        }
        update_exports(self);
      },
      [self](services_atom, uint64_t, service_map& services) {
        metered_handler m{self};
        self->state.services = std::move(services);
        update_exports(self);
      },
      [self](subscribe_atom, endpoints_sink sink) {
        metered_handler m{self};
        auto& st = self->state;
        if (st.endpoints_version > 0) {
          self->send(sink, endpoints_atom::value, st.endpoints_version, st.local);
        }
        st.sidecars.add(self, std::move(sink));
      },
      [self](poll_atom) {
        metered_handler m{self};
        ping_peers(self);
      },
      [self](reconnect_atom, const std::string& name) {
        metered_handler m{self};
        if (auto* p = find_peer(self, name); p != nullptr && !p->gateway) {
          connect(self, *p);
        }
      },
      [self](withdraw_atom, const std::string& name, uint64_t epoch) {
        metered_handler m{self};
        auto* p = find_peer(self, name);
        if (p == nullptr || !p->stale || p->epoch != epoch) {
          return;  // it answered since
        }
        log_warn("federation: peer " + p->describe() +
                 " stale for federation.stale_after: its services withdrawn");
        p->imported.clear();
        p->stale = false;
        import(self, *p);
        publish_status(self);
      },
  };
}

}  // namespace

gateway_actor spawn_gateway(caf::actor_system& sys, node_context& ctx,
                            const control_plane_handles& handles) {
  return sys.spawn(gateway, &ctx, handles.discovery, handles.commander);
}

caf::actor start_gateway(caf::actor_system& sys, node_context& ctx,
                         const control_plane_handles& handles, std::string& error) {
  const auto& f = ctx.config.federation;
  auto gw = spawn_gateway(sys, ctx, handles);
  bool tls = ctx.config.tls.enabled();
  auto port = tls ? actors::publish_tls(gw, f.listen.port, f.listen.address.c_str())
                  : sys.middleman().publish(gw, f.listen.port, f.listen.address.c_str(), true);
  if (!port) {
    error = "federation: cannot listen on " + f.listen.address + ":" +
            std::to_string(f.listen.port) + ": " + sys.render(port.error());
    caf::anon_send_exit(gw, caf::exit_reason::user_shutdown);
    return {};
  }
  log_info("federation: cluster " + f.cluster + "'s gateway at " + f.listen.address + ":" +
           std::to_string(*port) + (tls ? " (mutual TLS)" : " (plaintext)") + ", " +
           std::to_string(f.peers.size()) + " peers" +
           (f.ingress.port != 0
                ? ", ingress " + f.ingress.address + ":" + std::to_string(f.ingress.port)
                : std::string{", no ingress"}));
  return caf::actor_cast<caf::actor>(gw);
}

}  // namespace am::federation
