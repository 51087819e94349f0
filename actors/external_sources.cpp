#include "actors/external_sources.h"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>

#include "actors/control_api.h"
#include "actors/etcd_watch.h"
#include "actors/k8s_watch.h"
#include "actors/log.h"

namespace am::actors {

namespace {

// Forwards each view of a discovery source (sent by its watcher thread) to discovery.
caf::behavior endpoint_source(caf::event_based_actor* self, actor_stats* stats,
                              discovery_actor discovery) {
  return {
      [=](source_atom, const std::string& name, const config::endpoint_table& table) {
        metered_handler m{stats, self->mailbox().size(), self};
        self->send(discovery, source_atom::value, name, table);
      },
  };
}

// Hands each document the MeshConfig resources make to the commander and logs its verdict
// (the commander writes the audit line either way, conflicts between resources included).
caf::behavior config_source(caf::event_based_actor* self, actor_stats* stats,
                            commander_actor commander) {
  return {
      [=](reject_atom, const std::string& source, const std::vector<std::string>& errors) {
        metered_handler m{stats, self->mailbox().size(), self};
        self->send(commander, reject_atom::value, source, errors);
      },
      [=](apply_atom, const std::string& document, const std::string& source) {
        metered_handler m{stats, self->mailbox().size(), self};
        self->request(commander, std::chrono::seconds{10}, apply_atom::value, document, uint64_t{0},
                      source)
            .then(
                [=](const apply_outcome& o) {
                  if (o.result == apply_outcome::applied) {
                    log_info("kubernetes: " + source + " is config version " +
                             std::to_string(o.version));
                  }
                },
                [=](caf::error& e) {
                  log_warn("kubernetes: the commander did not answer: " + caf::to_string(e));
                });
      },
  };
}

// A watcher thread and the actor it feeds; stopping joins the thread first.
template <class Watch>
class watched_source final : public node_service {
 public:
  watched_source(caf::actor actor, std::unique_ptr<Watch> watch)
      : actor_(std::move(actor)), watch_(std::move(watch)) {}
  ~watched_source() override {
    watch_.reset();
    caf::anon_send_exit(actor_, caf::exit_reason::user_shutdown);
  }

 private:
  caf::actor actor_;
  std::unique_ptr<Watch> watch_;
};

}  // namespace

std::unique_ptr<node_service> start_etcd_source(caf::actor_system& sys, node_context& ctx,
                                                discovery_actor discovery) {
  const auto& settings = ctx.config.etcd;
  auto actor = sys.spawn(endpoint_source, ctx.actor_metrics.get("etcd_source"), discovery);
  auto watch = std::make_unique<etcd_watch>(settings, [actor](config::endpoint_table table) {
    caf::anon_send(actor, source_atom::value, std::string{etcd_source}, std::move(table));
  });
  log_info("etcd source: following " + settings.prefix + " at " + settings.endpoints);
  return std::make_unique<watched_source<etcd_watch>>(actor, std::move(watch));
}

std::unique_ptr<node_service> start_k8s_endpoint_source(caf::actor_system& sys, node_context& ctx,
                                                        discovery_actor discovery) {
  auto actor = sys.spawn(endpoint_source, ctx.actor_metrics.get("k8s_endpoint_source"), discovery);
  auto watch = std::make_unique<k8s_watch>(
      ctx.config.kubernetes_endpoints, "apis/discovery.k8s.io/v1", "endpointslices",
      [actor](const config::k8s_object_set& slices) {
        std::vector<std::string> errors;
        auto table = config::endpoint_slices_table(slices, errors);
        for (const auto& e : errors) {
          log_warn("kubernetes: skipped EndpointSlice " + e);
        }
        caf::anon_send(actor, source_atom::value, std::string{kubernetes_source}, std::move(table));
      });
  log_info("kubernetes source: following EndpointSlices at " + ctx.config.kubernetes_endpoints.api);
  return std::make_unique<watched_source<k8s_watch>>(actor, std::move(watch));
}

std::unique_ptr<node_service> start_k8s_config_source(caf::actor_system& sys, node_context& ctx,
                                                      commander_actor commander) {
  auto actor = sys.spawn(config_source, ctx.actor_metrics.get("k8s_config_source"), commander);
  auto watch = std::make_unique<k8s_watch>(
      ctx.config.kubernetes_config, "apis/actormesh.io/v1alpha1", "meshconfigs",
      [actor, followed = false](const config::k8s_object_set& configs) mutable {
        // Until a first MeshConfig exists the node file's services stay in force; after
        // that the resources are the config (deleting them all leaves no service).
        if (configs.objects().empty() && !followed) {
          return;
        }
        followed = true;
        std::string source;
        std::vector<config::config_error> errors;
        auto document = config::mesh_config_document(configs, source, errors);
        if (!errors.empty()) {
          std::vector<std::string> lines;
          for (const auto& e : errors) {
            lines.push_back(e.to_string());
          }
          caf::anon_send(actor, reject_atom::value, std::move(source), std::move(lines));
          return;
        }
        caf::anon_send(actor, apply_atom::value, std::move(document), std::move(source));
      });
  log_info("kubernetes source: following MeshConfig resources at " +
           ctx.config.kubernetes_config.api);
  return std::make_unique<watched_source<k8s_watch>>(actor, std::move(watch));
}

std::vector<std::unique_ptr<node_service>> start_control_plane_services(
    caf::actor_system& sys, node_context& ctx, const control_plane_handles& actors,
    std::string& error) {
  std::vector<std::unique_ptr<node_service>> out;
  const auto& node = ctx.config;
  if (!node.etcd.endpoints.empty() && actors.discovery) {
    out.push_back(start_etcd_source(sys, ctx, actors.discovery));
  }
  if (!node.kubernetes_endpoints.api.empty() && actors.discovery) {
    out.push_back(start_k8s_endpoint_source(sys, ctx, actors.discovery));
  }
  if (!node.kubernetes_config.api.empty() && actors.commander) {
    out.push_back(start_k8s_config_source(sys, ctx, actors.commander));
  }
  if (node.control_api.port != 0) {
    auto api = start_control_api(sys, ctx.status, actors, node.control_api, error);
    if (api) {
      out.push_back(std::move(api));
    }
  }
  return out;
}

}  // namespace am::actors
