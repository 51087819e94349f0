#include "actors/sidecar.h"

#include <caf/actor_system.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <thread>
#include <utility>

#include "actors/actor_sink.h"
#include "actors/breaker.h"
#include "actors/log.h"
#include "actors/memory_release.h"
#include "actors/retry.h"
#include "actors/sidecar_taps.h"
#include "actors/tsan_handoff.h"
#include "actors/version_waiters.h"
#include "actors/worker.h"
#include "config/json.h"
#include "net/golden_signals.h"
#include "net/h2_memory.h"
#include "net/hop_guard.h"
#include "net/proxy_worker.h"

namespace am::actors {

namespace {

constexpr auto drain_grace = std::chrono::seconds{1};

struct sidecar_state {
  node_context* ctx = nullptr;
  std::vector<worker_actor> workers;
  service_map services;
  uint64_t services_version = 0;
  config::endpoint_table endpoints;
  uint64_t endpoints_version = 0;
  uint64_t snapshot_version = 0;
  // The newest services version every worker routes with, and who waits for a newer one.
  uint64_t services_in_force = 0;
  version_waiters in_force_waiters;
  net::endpoint_registry endpoint_ids;
  // One breaker actor per service with a breaker or outlier detection, one retry actor per
  // service that retries: kept by name for as long as the service needs them, whatever else
  // changes, so their state (open breakers, ejections, budgets) survives every snapshot.
  std::map<std::string, breaker_actor> breakers;
  std::map<std::string, retry_actor> retries;
  // The load of `lb: global` services the workers reported since the last report to the
  // global-lb (`report_to`: the node's own global-lb or the control link), by service and
  // endpoint.
  caf::actor report_to;
  std::map<std::string, std::map<std::string, net::endpoint_load_report>> load;
  size_t awaiting = 0;  // workers asked for their load that have not answered
  std::shared_ptr<net::load_sink> load_sink;
  // Golden signals, every second, to the node's signals actor or the control link.
  caf::actor signals_to;
  net::signals_sampler signals;
  // `meshctl tap` sessions (the API's actors, maybe in another process) and the workers'
  // batches of what they saw.
  sidecar_taps taps;
  std::shared_ptr<net::tap_sink> tap_sink;
  bool trim_scheduled = false;  // a release of freed memory is due (memory_release.h)
  actor_stats* stats = nullptr;
};

using self_ptr = sidecar_actor::stateful_pointer<sidecar_state>;

// Spawns the actors a service needs and has not got; ends those it no longer needs.
template <class Actor, class Needs, class Spawn>
void reconcile(self_ptr self, std::map<std::string, Actor>& actors, Needs needs, Spawn spawn) {
  auto& st = self->state;
  for (auto i = actors.begin(); i != actors.end();) {
    auto svc = st.services.find(i->first);
    if (svc == st.services.end() || !needs(svc->second)) {
      self->unlink_from(i->second);
      self->send_exit(i->second, caf::exit_reason::user_shutdown);
      i = actors.erase(i);
    } else {
      ++i;
    }
  }
  for (const auto& [name, policy] : st.services) {
    if (needs(policy) && actors.count(name) == 0) {
      auto a = spawn(policy);
      self->link_to(a);
      actors.emplace(name, std::move(a));
    }
  }
}

void reconcile_actors(self_ptr self) {
  auto& st = self->state;
  reconcile(
      self, st.breakers,
      [](const config::service& p) { return p.breaker.has_value() || p.outlier.has_value(); },
      [&](const config::service& p) {
        return spawn_breaker(self->system(), *st.ctx, p.name, st.workers);
      });
  reconcile(
      self, st.retries, [](const config::service& p) { return net::retries(p); },
      [&](const config::service& p) {
        return spawn_retry(self->system(), *st.ctx, p, st.workers);
      });
}

void in_force(self_ptr self, uint64_t services_version) {
  auto& st = self->state;
  st.services_in_force = std::max(st.services_in_force, services_version);
  st.in_force_waiters.reach(st.services_in_force);
}

// Long enough for the workers' in-flight exchanges to let go of the snapshot before, and for a
// burst of changes to end in one release.
constexpr auto trim_delay = std::chrono::seconds{2};

void schedule_trim(self_ptr self) {
  if (!std::exchange(self->state.trim_scheduled, true)) {
    self->delayed_send(self, trim_delay, trim_atom::value);
  }
}

void trim(self_ptr self) {
  self->state.trim_scheduled = false;
  auto r = release_free_memory();
  log_info("sidecar: returned freed memory to the OS after snapshot " +
           std::to_string(self->state.snapshot_version) + ": anonymous " +
           std::to_string(r.anonymous_before_kb) + " -> " + std::to_string(r.anonymous_after_kb) +
           " KB");
}

void publish(self_ptr self) {
  auto& st = self->state;
  if (st.services_version == 0 || st.endpoints_version == 0) {
    return;  // starting: wait for both halves
  }
  reconcile_actors(self);
  auto snapshot = net::build_routing_snapshot(
      ++st.snapshot_version, st.services, st.endpoints, st.ctx->stats, st.endpoint_ids,
      st.ctx->config.sidecar.locality,
      net::sink_factory{[&](const net::route_service& svc) -> std::shared_ptr<net::outcome_sink> {
                          auto i = st.breakers.find(svc.name);
                          return i == st.breakers.end() ? nullptr : make_outcome_sink(i->second);
                        },
                        [&](const net::route_service& svc) -> std::shared_ptr<net::usage_sink> {
                          auto i = st.retries.find(svc.name);
                          return i == st.retries.end() ? nullptr : make_usage_sink(i->second);
                        },
                        st.load_sink});
  // Breakers hear of their service's policy and endpoints before any worker can send them an
  // outcome of this snapshot; each keeps what did not change and tells workers only of
  // real changes.
  for (auto& [name, b] : st.breakers) {
    const auto* svc = snapshot->find(name);
    net::endpoint_names endpoints;
    for (const auto& ep : svc->endpoints) {
      endpoints.push_back({ep.id, ep.key});
    }
    self->send(b, configure_atom::value, svc->policy, std::move(endpoints));
  }
  for (auto& [name, r] : st.retries) {
    self->send(r, configure_atom::value, snapshot->find(name)->policy.retry_budget);
  }
  handoff_release(snapshot.get());
  // Once every worker routes with it, this services version is in force, and the status shows
  // its endpoints: the first time, the sidecar is ready (routes what it was told, not only
  // received it).
  auto remaining = std::make_shared<size_t>(st.workers.size());
  auto services_version = st.services_version;
  auto endpoints_version = st.endpoints_version;
  auto endpoints_json = std::make_shared<std::string>(config::to_json(st.endpoints));
  for (auto& w : st.workers) {
    self->request(w, caf::infinite, snapshot_atom::value, snapshot)
        .then(
            [=](uint64_t) {
              metered_handler reply{self};
              if (--*remaining == 0) {
                in_force(self, services_version);
                self->state.ctx->status.set_endpoints(endpoints_version,
                                                      std::move(*endpoints_json));
                schedule_trim(self);
              }
            },
            [](caf::error&) {});  // a worker that is gone: nothing is in force any more
  }
}

constexpr auto load_report_interval = std::chrono::seconds{1};

void merge_load(sidecar_state& st, const net::load_report& report) {
  for (const auto& svc : report.services) {
    auto& eps = st.load[svc.service];
    for (const auto& e : svc.endpoints) {
      auto& m = eps[e.endpoint];
      m.endpoint = e.endpoint;
      m.requests += e.requests;
      m.errors += e.errors;
      m.latency_us += e.latency_us;
      m.active += e.active;
      m.ejected = m.ejected || e.ejected;
    }
  }
}

// The sidecar's report: every worker's load since the last ask, merged.
void send_load(self_ptr self) {
  auto& st = self->state;
  st.awaiting = 0;
  if (st.load.empty()) {
    return;
  }
  net::load_report report;
  report.sidecar = st.ctx->config.name;
  for (auto& [service, eps] : st.load) {
    auto& out = report.services.emplace_back();
    out.service = service;
    for (auto& [key, e] : eps) {
      out.endpoints.push_back(std::move(e));
    }
  }
  st.load.clear();
  // As the sidecar, so that the weights come back here (or to the control link).
  caf::unsafe_send_as(self, st.report_to, load_atom::value, std::move(report));
}

// Once a second: every worker is asked for its load; the report goes out as soon as all
// have answered (so it covers exactly the last second), or at the next ask with those that
// did.
void ask_load(self_ptr self) {
  auto& st = self->state;
  if (!st.report_to) {
    return;
  }
  if (st.awaiting > 0) {
    send_load(self);
  }
  st.awaiting = st.workers.size();
  for (auto& w : st.workers) {
    self->send(w, load_atom::value);
  }
}

// What this sidecar's calls did in the last second, per destination (from the counters the
// workers keep for /metrics: nothing is asked of them).
void send_signals(self_ptr self) {
  auto& st = self->state;
  if (!st.signals_to) {
    return;
  }
  auto report =
      st.signals.sample(st.ctx->stats, st.ctx->config.name, st.ctx->config.sidecar.service_name);
  if (st.signals.worth_sending(report)) {
    caf::anon_send(st.signals_to, signals_atom::value, std::move(report));
  }
}

// The global-lb's weights: to every worker, and to /config and /metrics.
void apply_weights(self_ptr self, const net::weight_table& table) {
  auto shared = std::make_shared<const net::weight_table>(table);
  handoff_release(shared.get());
  for (auto& w : self->state.workers) {
    self->send(w, weights_atom::value, shared);
  }
  node_status::weights_by_service view;
  for (const auto& svc : table.services) {
    auto& out = view[svc.service];
    for (size_t i = 0; i < svc.endpoints.size() && i < svc.weights.size(); ++i) {
      out.emplace_back(svc.endpoints[i], svc.weights[i]);
    }
  }
  self->state.ctx->status.set_global_weights(std::move(view));
}

void publish_taps(self_ptr self, const net::tap_set_ptr& taps) {
  auto& st = self->state;
  handoff_release(taps.get());
  for (auto& w : st.workers) {
    self->send(w, tap_atom::value, taps, st.tap_sink);
  }
  st.ctx->stats.proxy().taps_active.store(static_cast<int64_t>(st.taps.size()));
}

void untap(self_ptr self, const caf::actor_addr& session) {
  if (auto taps = self->state.taps.remove(session)) {
    log_info("sidecar: tap ended (" + std::to_string(self->state.taps.size()) + " left)");
    publish_taps(self, *taps);
  }
}

sidecar_actor::behavior_type sidecar(self_ptr self, node_context* ctx,
                                     std::vector<worker_actor> workers) {
  self->state.ctx = ctx;
  self->state.workers = std::move(workers);
  self->state.stats = ctx->actor_metrics.get("sidecar");
  for (auto& w : self->state.workers) {
    self->link_to(w);  // a worker that dies takes the sidecar down, and the reverse
  }
  // Workers' load reports: a one-way send to the sidecar, which merges them.
  self->state.load_sink = make_actor_sink<net::load_report, load_atom>(sidecar_actor{self});
  self->state.tap_sink = make_actor_sink<net::tap_batch, tap_atom>(sidecar_actor{self});
  // A tap session that ends without saying so (its control plane gone) ends its tap.
  self->set_down_handler([self](const caf::down_msg& msg) {
    metered_handler m{self};
    untap(self, msg.source);
  });
  self->delayed_send(self, load_report_interval, poll_atom::value);
  return {
      [self](load_atom, const net::load_report& report) {
        metered_handler m{self};
        auto& st = self->state;
        merge_load(st, report);
        if (st.awaiting > 0 && --st.awaiting == 0) {
          send_load(self);
        }
      },
      [self](weights_atom, const net::weight_table& table) {
        metered_handler m{self};
        apply_weights(self, table);
      },
      [self](report_to_atom, caf::actor target) {
        metered_handler m{self};
        self->state.report_to = std::move(target);
      },
      [self](signals_to_atom, caf::actor target) {
        metered_handler m{self};
        self->state.signals_to = std::move(target);
      },
      [self](poll_atom) {
        metered_handler m{self};
        self->delayed_send(self, load_report_interval, poll_atom::value);
        ask_load(self);
        send_signals(self);
      },
      [self](trim_atom) {
        metered_handler m{self};
        trim(self);
      },
      [self](tap_atom, config::tap_filter& filter, caf::actor session) {
        metered_handler m{self};
        auto& st = self->state;
        const auto& own = st.ctx->config.sidecar.service_name;
        if (!filter.from.empty() && filter.from != own) {
          return;  // another service's calls
        }
        log_info("sidecar: tap on " + filter.service + " started");
        self->monitor(session);
        publish_taps(self, st.taps.add(std::move(session), std::move(filter)));
      },
      [self](untap_atom, const caf::actor& session) {
        metered_handler m{self};
        untap(self, session.address());
      },
      [self](tap_atom, net::tap_batch& batch) {
        metered_handler m{self};
        auto& st = self->state;
        if (batch.installed) {
          for (auto& session : st.taps.installed(batch.generation, st.workers.size())) {
            caf::anon_send(session, tapping_atom::value, st.ctx->config.name);
          }
        }
        auto& proxy = st.ctx->stats.proxy();
        for (auto& [session, events] : st.taps.route(batch, st.ctx->config.name)) {
          proxy.tap_events.fetch_add(events.events.size(), std::memory_order_relaxed);
          proxy.tap_dropped.fetch_add(events.dropped, std::memory_order_relaxed);
          caf::anon_send(session, tap_atom::value, std::move(events));
        }
      },
      [self](endpoints_atom, uint64_t version, const config::endpoint_table& table) {
        metered_handler m{self};
        self->state.endpoints = table;
        self->state.endpoints_version = version;
        publish(self);
      },
      [self](services_atom, uint64_t version, const service_map& services) {
        metered_handler m{self};
        self->state.services = services;
        self->state.services_version = version;
        self->state.ctx->status.set_services(version);
        publish(self);
      },
      [self](in_force_atom, uint64_t version) -> caf::result<uint64_t> {
        metered_handler m{self};
        auto& st = self->state;
        if (st.services_in_force >= version) {
          return st.services_in_force;
        }
        auto promise = self->make_response_promise<uint64_t>();
        st.in_force_waiters.add(version, promise);
        return promise;
      },
      [self](drain_atom) -> caf::result<bool> {
        metered_handler m{self};
        auto& st = self->state;
        st.ctx->status.set_draining();
        auto promise = self->make_response_promise<bool>();
        auto remaining = std::make_shared<size_t>(st.workers.size());
        auto all_ok = std::make_shared<bool>(true);
        if (*remaining == 0) {
          promise.deliver(true);
          return promise;
        }
        auto deadline = st.ctx->config.sidecar.drain_timeout + drain_grace;
        for (auto& w : st.workers) {
          self->request(w, deadline, drain_atom::value)
              .then(
                  [=](bool ok) mutable {
                    metered_handler reply{self};
                    *all_ok = *all_ok && ok;
                    if (--*remaining == 0) {
                      promise.deliver(*all_ok);
                    }
                  },
                  [=](caf::error&) mutable {
                    metered_handler reply{self};
                    *all_ok = false;
                    if (--*remaining == 0) {
                      promise.deliver(false);
                    }
                  });
        }
        return promise;
      },
  };
}

}  // namespace

bool spawn_sidecar(caf::actor_system& sys, node_context& ctx, sidecar_actor& out,
                   std::string& error) {
  auto count = ctx.config.sidecar.workers;
  if (count == 0) {
    count = std::max(1u, std::thread::hardware_concurrency());
  }
  net::set_h2_free_list_bytes(ctx.config.sidecar.h2_free_list_bytes);
  auto instance = net::new_instance_id();  // names this sidecar in hop markers (loops)
  std::vector<std::shared_ptr<net::proxy_worker>> started;
  for (unsigned i = 0; i < count; ++i) {
    auto w = std::make_shared<net::proxy_worker>(
        ctx.config.sidecar, ctx.stats, ctx.access_log.get(), i, instance, ctx.spans.get());
    if (!w->open_listeners(error)) {
      return false;
    }
    started.push_back(std::move(w));
  }
  std::vector<worker_actor> workers;
  for (auto& w : started) {
    w->start();
    workers.push_back(spawn_worker(sys, ctx, w));
  }
  ctx.status.set_workers_running(true);
  log_info("sidecar: " + std::to_string(count) + " workers; outbound " +
           ctx.config.sidecar.outbound.address + ":" +
           std::to_string(ctx.config.sidecar.outbound.port) +
           (ctx.config.sidecar.inbound.port != 0
                ? ", inbound " + ctx.config.sidecar.inbound.address + ":" +
                      std::to_string(ctx.config.sidecar.inbound.port) +
                      (ctx.config.sidecar.transparent.inbound ? " (transparent)" : "")
                : std::string{}) +
           (ctx.config.sidecar.transparent.port != 0
                ? ", transparent " + ctx.config.sidecar.transparent.address + ":" +
                      std::to_string(ctx.config.sidecar.transparent.port) + " and [" +
                      ctx.config.sidecar.transparent.address6 +
                      "]:" + std::to_string(ctx.config.sidecar.transparent.port)
                : std::string{}) +
           (started.front()->loop().batches_writes()
                ? "; writes batched through io_uring"
                : "; io_uring unavailable or off: one send() per write"));
  out = sys.spawn(sidecar, &ctx, std::move(workers));
  return true;
}

}  // namespace am::actors
