#include "actors/control_api.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include "actors/api_auth.h"
#include "actors/log.h"
#include "config/load.h"
#include "config/text_file.h"
#include "proto/control.grpc.pb.h"

namespace am::actors {

namespace {

namespace pb = actormesh::control::v1;

constexpr auto ask_timeout = std::chrono::seconds{5};
// How often a Watch stream notices that its client went away or the server stops.
constexpr auto watch_poll = std::chrono::milliseconds{200};

bool read_file(const std::string& path, std::string& out, std::string& error) {
  if (!config::read_text_file(path, out)) {
    error = "control API: cannot read " + path;
    return false;
  }
  return true;
}

grpc::Status unavailable(const caf::error& e, caf::actor_system& sys) {
  return {grpc::StatusCode::UNAVAILABLE, "control plane busy or stopping: " + sys.render(e)};
}

void to_proto(const config_revision& r, pb::ConfigVersion& out) {
  out.set_version(r.version);
  out.set_source(r.source);
  out.set_applied_unix_ms(r.applied_unix_ms);
  out.set_document(r.document);
}

void to_proto(const apply_outcome& o, pb::ApplyResponse& out) {
  out.set_result(static_cast<pb::ApplyResponse::Result>(o.result));
  out.set_version(o.version);
  for (const auto& e : o.errors) {
    out.add_errors(e);
  }
}

void to_proto(uint64_t version, const config::endpoint_table& table, pb::EndpointsUpdate& out) {
  out.set_version(version);
  for (const auto& [service, endpoints] : table) {
    auto& list = (*out.mutable_services())[service];
    for (const auto& ep : endpoints) {
      auto* e = list.add_endpoints();
      e->set_address(ep.address);
      e->set_port(ep.port);
      e->set_weight(ep.weight);
      e->mutable_labels()->insert(ep.labels.begin(), ep.labels.end());
    }
  }
}

// "api:<caller>", on one line (it goes into the audit log and the store's index): the verified
// identity when callers authenticate, else the name the client gives (or its address).
std::string caller_of(grpc::ServerContext* ctx, const std::string& named,
                      const std::string& verified) {
  auto caller = "api:" + (!verified.empty() ? verified : named.empty() ? ctx->peer() : named);
  std::replace_if(
      caller.begin(), caller.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return caller;
}

class commander_service final : public pb::Commander::Service {
 public:
  commander_service(caf::actor_system& sys, const control_plane_handles& actors,
                    const api_authenticator& auth)
      : sys_(sys), actors_(actors), auth_(auth) {}

  grpc::Status Apply(grpc::ServerContext* ctx, const pb::ApplyRequest* req,
                     pb::ApplyResponse* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    return ask_outcome(resp, apply_atom::value, req->document(), req->expected_version(),
                       caller_of(ctx, req->caller(), who));
  }

  grpc::Status Rollback(grpc::ServerContext* ctx, const pb::RollbackRequest* req,
                        pb::ApplyResponse* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    return ask_outcome(resp, rollback_atom::value, req->version(),
                       caller_of(ctx, req->caller(), who));
  }

  grpc::Status Get(grpc::ServerContext* ctx, const pb::GetRequest*,
                   pb::ConfigVersion* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    caf::scoped_actor self{sys_};
    grpc::Status status;
    self->request(actors_.commander, ask_timeout, current_atom::value)
        .receive([&](const config_revision& r) { to_proto(r, *resp); },
                 [&](caf::error& e) { status = unavailable(e, sys_); });
    return status;
  }

  grpc::Status History(grpc::ServerContext* ctx, const pb::HistoryRequest*,
                       pb::HistoryResponse* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    caf::scoped_actor self{sys_};
    grpc::Status status;
    self->request(actors_.commander, ask_timeout, history_atom::value)
        .receive(
            [&](const std::vector<config_revision>& revisions) {
              for (const auto& r : revisions) {
                to_proto(r, *resp->add_versions());
              }
            },
            [&](caf::error& e) { status = unavailable(e, sys_); });
    return status;
  }

  grpc::Status Status(grpc::ServerContext* ctx, const pb::StatusRequest*,
                      pb::StatusResponse* resp) override {
    pb::ConfigVersion current;
    auto status = Get(ctx, nullptr, &current);
    if (!status.ok()) {
      return status;
    }
    resp->set_config_version(current.version());
    if (!actors_.gateway) {
      return status;  // no sidecars can attach: control.listen is off
    }
    caf::scoped_actor self{sys_};
    self->request(actors_.gateway, ask_timeout, status_atom::value)
        .receive(
            [&](const std::vector<sidecar_status>& sidecars) {
              for (const auto& s : sidecars) {
                auto* out = resp->add_sidecars();
                out->set_name(s.name);
                out->set_connected(s.connected);
                out->set_config_version(s.config_version);
                out->set_acked_unix_ms(s.acked_unix_ms);
                out->set_endpoints_version(s.endpoints_version);
                for (const auto& u : s.uses) {
                  out->add_uses(u);
                }
              }
            },
            [&](caf::error& e) { status = unavailable(e, sys_); });
    return status;
  }

 private:
  template <class... Ts>
  grpc::Status ask_outcome(pb::ApplyResponse* resp, Ts&&... xs) {
    caf::scoped_actor self{sys_};
    grpc::Status status;
    self->request(actors_.commander, ask_timeout, std::forward<Ts>(xs)...)
        .receive([&](const apply_outcome& o) { to_proto(o, *resp); },
                 [&](caf::error& e) { status = unavailable(e, sys_); });
    return status;
  }

  caf::actor_system& sys_;
  control_plane_handles actors_;
  const api_authenticator& auth_;
};

class discovery_service final : public pb::Discovery::Service {
 public:
  discovery_service(caf::actor_system& sys, discovery_actor discovery,
                    const api_authenticator& auth)
      : sys_(sys), discovery_(std::move(discovery)), auth_(auth) {}

  grpc::Status Endpoints(grpc::ServerContext* ctx, const pb::EndpointsRequest* req,
                         pb::EndpointsUpdate* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    caf::scoped_actor self{sys_};
    auto services = subscribe(self, *req);
    self->receive(
        [&](endpoints_atom, uint64_t version, const config::endpoint_table& table) {
          to_proto(version, endpoints_for(table, services), *resp);
        },
        caf::after(std::chrono::seconds{1}) >> [] {});  // nothing discovered yet: version 0
    return grpc::Status::OK;
  }

  grpc::Status Watch(grpc::ServerContext* ctx, const pb::EndpointsRequest* req,
                     grpc::ServerWriter<pb::EndpointsUpdate>* writer) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    caf::scoped_actor self{sys_};
    auto services = subscribe(self, *req);
    bool open = true;
    while (open && !ctx->IsCancelled()) {
      self->receive(
          [&](endpoints_atom, uint64_t version, const config::endpoint_table& table) {
            pb::EndpointsUpdate update;
            to_proto(version, endpoints_for(table, services), update);
            open = writer->Write(update);
          },
          caf::after(watch_poll) >> [] {});
    }
    return grpc::Status::OK;
  }

 private:
  // Discovery answers a subscription with the current table, then sends each new version;
  // the subscription ends with the scoped actor.
  std::vector<std::string> subscribe(caf::scoped_actor& self, const pb::EndpointsRequest& req) {
    self->send(discovery_, subscribe_atom::value, caf::actor_cast<endpoints_sink>(self));
    return {req.services().begin(), req.services().end()};
  }

  caf::actor_system& sys_;
  discovery_actor discovery_;
  const api_authenticator& auth_;
};

class load_balancer_service final : public pb::LoadBalancer::Service {
 public:
  load_balancer_service(caf::actor_system& sys, global_lb_actor global_lb,
                        const api_authenticator& auth)
      : sys_(sys), global_lb_(std::move(global_lb)), auth_(auth) {}

  grpc::Status Table(grpc::ServerContext* ctx, const pb::TableRequest* req,
                     pb::WeightTable* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    if (!global_lb_) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "this control plane has no global_lb role: sidecars balance locally"};
    }
    caf::scoped_actor self{sys_};
    grpc::Status status;
    self->request(global_lb_, ask_timeout, lb_status_atom::value, req->service())
        .receive(
            [&](const lb_table& t) {
              resp->set_service(t.service);
              resp->set_known(t.known);
              resp->set_version(t.version);
              resp->set_age_ms(t.age_ms);
              resp->set_sidecars(t.sidecars);
              for (const auto& e : t.endpoints) {
                auto* out = resp->add_endpoints();
                out->set_endpoint(e.endpoint);
                out->set_weight(e.weight);
                out->set_requests_per_s(e.requests_per_s);
                out->set_mean_latency_ms(e.mean_latency_ms);
                out->set_errors(e.errors);
                out->set_active(e.active);
                out->set_ejected_by(e.ejected_by);
              }
            },
            [&](caf::error& e) { status = unavailable(e, sys_); });
    return status;
  }

 private:
  caf::actor_system& sys_;
  global_lb_actor global_lb_;
  const api_authenticator& auth_;
};

void to_proto(const config::tap_event& e, const std::string& sidecar, pb::TapEvent& out) {
  out.set_sidecar(sidecar);
  out.set_unix_ms(e.unix_ms);
  out.set_source(e.source);
  out.set_destination(e.destination);
  out.set_method(e.method);
  out.set_authority(e.authority);
  out.set_path(e.path);
  out.set_status(e.status);
  out.set_grpc_status(e.grpc_status);
  out.set_latency_us(e.latency_us);
  out.set_endpoint(e.endpoint);
  out.set_attempt(e.attempt);
  out.set_error(e.error);
}

class stats_service final : public pb::Stats::Service {
 public:
  stats_service(caf::actor_system& sys, const control_plane_handles& actors,
                const api_authenticator& auth)
      : sys_(sys),
        signals_(actors.signals),
        gateway_(actors.gateway),
        sidecar_(actors.sidecar),
        auth_(auth) {}

  grpc::Status Stat(grpc::ServerContext* ctx, const pb::StatRequest* req,
                    pb::StatResponse* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    if (!signals_) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "this control plane has no discovery role: no golden signals"};
    }
    lb::signal_query q{lb::signal_window::one_minute, req->from(), req->to(), req->by_pair()};
    if (!req->window().empty() && !lb::parse_signal_window(req->window(), q.window)) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "window: must be 10s, 1m or 10m, got '" + req->window() + "'"};
    }
    resp->set_window(lb::to_string(q.window));
    caf::scoped_actor self{sys_};
    grpc::Status status;
    self->request(signals_, ask_timeout, stat_atom::value, q)
        .receive(
            [&](const std::vector<lb::signal_row>& rows) {
              for (const auto& r : rows) {
                auto* out = resp->add_rows();
                out->set_source(r.source);
                out->set_destination(r.destination);
                out->set_requests(r.requests);
                out->set_failures(r.failures);
                out->set_success_rate(r.success_rate());
                out->set_requests_per_s(r.requests_per_second);
                out->set_p50_us(r.p50_us);
                out->set_p95_us(r.p95_us);
                out->set_p99_us(r.p99_us);
                out->set_sidecars(r.sidecars);
                for (auto n : r.by_class) {
                  out->add_by_class(n);
                }
              }
            },
            [&](caf::error& e) { status = unavailable(e, sys_); });
    return status;
  }

  // The stream's scoped actor is the tap's session: the gateway passes its filter on to every
  // sidecar (and to those that attach while it lasts), the node's own sidecar gets it here;
  // sidecars send their events straight to it and end the tap when it goes.
  grpc::Status Tap(grpc::ServerContext* ctx, const pb::TapRequest* req,
                   grpc::ServerWriter<pb::TapEvent>* writer) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    if (req->service().empty()) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "service: required"};
    }
    if (!gateway_ && !sidecar_) {
      return {grpc::StatusCode::FAILED_PRECONDITION,
              "this control plane has no sidecars to tap (no control.listen, no sidecar)"};
    }
    config::tap_filter filter{req->service(), req->from(),   req->path_prefix(),
                              req->method(),  req->status(), req->max_per_second()};
    if (filter.max_per_second == 0) {
      filter.max_per_second = config::tap_filter{}.max_per_second;
    }
    caf::scoped_actor self{sys_};
    auto session = caf::actor_cast<caf::actor>(self);
    // Every sidecar: the attached ones through the gateway, and the node's own.
    auto tell_sidecars = [&](auto... message) {
      if (gateway_) {
        self->send(gateway_, message...);
      }
      if (sidecar_) {
        self->send(sidecar_, message...);
      }
    };
    tell_sidecars(tap_atom::value, filter, session);
    bool open = true;
    while (open && !ctx->IsCancelled()) {
      self->receive(
          [&](tapping_atom, const std::string& sidecar) {
            pb::TapEvent e;
            e.set_kind(pb::TapEvent::TAPPING);
            e.set_sidecar(sidecar);
            open = writer->Write(e);
          },
          [&](tap_atom, const config::tap_events& batch) {
            for (const auto& event : batch.events) {
              pb::TapEvent e;
              to_proto(event, batch.sidecar, e);
              open = open && writer->Write(e);
            }
            if (batch.dropped > 0) {
              pb::TapEvent e;
              e.set_kind(pb::TapEvent::DROPPED);
              e.set_sidecar(batch.sidecar);
              e.set_dropped(batch.dropped);
              open = open && writer->Write(e);
            }
          },
          caf::after(watch_poll) >> [] {});
    }
    tell_sidecars(untap_atom::value, session);
    return grpc::Status::OK;
  }

 private:
  caf::actor_system& sys_;
  signals_actor signals_;
  control_gateway_actor gateway_;
  sidecar_actor sidecar_;
  const api_authenticator& auth_;
};

// Reads what the federation gateway publishes in the node's status: no actor to ask.
class federation_service final : public pb::Federation::Service {
 public:
  federation_service(const node_status& status, const api_authenticator& auth)
      : status_(status), auth_(auth) {}

  grpc::Status Clusters(grpc::ServerContext* ctx, const pb::ClustersRequest*,
                        pb::ClustersResponse* resp) override {
    std::string who;
    if (auto denied = auth_.check(*ctx, who); !denied.ok()) {
      return denied;
    }
    auto f = status_.federation();
    if (f.cluster.empty()) {
      return {grpc::StatusCode::FAILED_PRECONDITION, "this control plane has no federation"};
    }
    resp->set_cluster(f.cluster);
    for (const auto& e : f.exported) {
      resp->add_exported(e);
    }
    for (const auto& p : f.peers) {
      auto* out = resp->add_peers();
      out->set_name(p.name);
      out->set_address(p.address);
      out->set_connected(p.connected);
      out->set_up(p.up);
      out->set_stale(p.stale);
      out->set_last_heard_unix_ms(p.last_heard_unix_ms);
      out->set_rtt_us(p.rtt_us);
      for (const auto& [service, n] : p.imported) {
        (*out->mutable_imported())[service] = n;
      }
    }
    return grpc::Status::OK;
  }

 private:
  const node_status& status_;
  const api_authenticator& auth_;
};

class control_api final : public node_service {
 public:
  control_api(caf::actor_system& sys, const node_status& status,
              const control_plane_handles& actors)
      : commander_(sys, actors, auth_),
        discovery_(sys, actors.discovery, auth_),
        load_balancer_(sys, actors.global_lb, auth_),
        stats_(sys, actors, auth_),
        federation_(status, auth_) {}

  bool start(const config::api_listener& at, std::string& error) {
    if (!auth_.load(at, error)) {
      return false;
    }
    auto credentials = grpc::InsecureServerCredentials();
    if (at.tls.enabled()) {
      grpc::SslServerCredentialsOptions options{
          GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY};
      std::string cert, key;
      if (!read_file(at.tls.ca, options.pem_root_certs, error) ||
          !read_file(at.tls.cert, cert, error) || !read_file(at.tls.key, key, error)) {
        return false;
      }
      options.pem_key_cert_pairs.push_back({key, cert});
      credentials = grpc::SslServerCredentials(options);
    }
    grpc::ServerBuilder builder;
    int bound = 0;
    auto address = at.address + ":" + std::to_string(at.port);
    builder.AddListeningPort(address, credentials, &bound);
    builder.SetMaxReceiveMessageSize(static_cast<int>(config::max_document_bytes) + 64 * 1024);
    builder.RegisterService(&commander_);
    builder.RegisterService(&discovery_);
    builder.RegisterService(&load_balancer_);
    builder.RegisterService(&stats_);
    builder.RegisterService(&federation_);
    server_ = builder.BuildAndStart();
    if (!server_ || bound == 0) {
      error = "control API: cannot listen on " + address;
      return false;
    }
    log_info("control API (gRPC) listening on " + address +
             (at.tls.enabled() ? ", mutual TLS" : ", plaintext") +
             (!at.tokens_file.empty() ? ", bearer tokens" : "") +
             (auth_.enabled() ? "" : ", no authentication"));
    return true;
  }

  ~control_api() override {
    if (server_) {
      // Open Watch streams see their calls cancelled within one poll.
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds{1});
    }
  }

 private:
  api_authenticator auth_;  // before the services, which keep a reference to it
  commander_service commander_;
  discovery_service discovery_;
  load_balancer_service load_balancer_;
  stats_service stats_;
  federation_service federation_;
  std::unique_ptr<grpc::Server> server_;
};

}  // namespace

std::unique_ptr<node_service> start_control_api(caf::actor_system& sys, const node_status& status,
                                                const control_plane_handles& actors,
                                                const config::api_listener& at,
                                                std::string& error) {
  auto api = std::make_unique<control_api>(sys, status, actors);
  if (!api->start(at, error)) {
    return nullptr;
  }
  return api;
}

}  // namespace am::actors
