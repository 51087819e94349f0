// Every message type and atom the actors exchange, registered in one place for every node
// (DESIGN.md §2). Types that may cross the middleman have an inspect() overload; the routing
// snapshot and the service policies are marked local-only.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "config/federation.h"
#include "config/golden_signals.h"
#include "config/model.h"
#include "config/tap.h"
#include "net/load_report.h"
#include "net/routing_snapshot.h"
#include "net/service_health.h"
#include "net/tap_recorder.h"

namespace am::actors {

// discovery source → discovery: the source's whole current view; discovery's own reminder
// that the minimum interval between versions has passed (make a version of what came).
using source_atom = caf::atom_constant<caf::atom("source")>;
using settle_atom = caf::atom_constant<caf::atom("settle")>;
// subscriber → discovery / commander: send me your updates.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
// discovery → subscribers: merged, versioned endpoint table.
using endpoints_atom = caf::atom_constant<caf::atom("endpoints")>;
// commander → subscribers: versioned service policies.
using services_atom = caf::atom_constant<caf::atom("services")>;
// sidecar → worker: a new routing snapshot, answered with its version once new requests are
// routed with it; the worker's poll of its loop until then.
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
using installed_atom = caf::atom_constant<caf::atom("installed")>;
// control link → sidecar: answer when every worker routes with this services version (an
// ack means "in force", not "received").
using in_force_atom = caf::atom_constant<caf::atom("in_force")>;
// drain: stop accepting and finish what is in flight; drained: a worker is done.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using drained_atom = caf::atom_constant<caf::atom("drained")>;
// sidecar → breaker: the service's policy and endpoints; sidecar → retry: the service's
// budget; workers → breaker: outcomes; breaker → workers: a service's health.
using configure_atom = caf::atom_constant<caf::atom("configure")>;
using outcomes_atom = caf::atom_constant<caf::atom("outcomes")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
// workers → retry actor: usage; retry actor → a worker: its lease of retry tokens.
using usage_atom = caf::atom_constant<caf::atom("usage")>;
using lease_atom = caf::atom_constant<caf::atom("lease")>;
// remote sidecar → control gateway: attach me; commander/gateway → remote sidecars: the
// validated node document (text), which the sidecar parses again; reconnect timer.
using attach_atom = caf::atom_constant<caf::atom("attach")>;
using document_atom = caf::atom_constant<caf::atom("document")>;
using reconnect_atom = caf::atom_constant<caf::atom("reconnect")>;
// file source's poll timer.
using poll_atom = caf::atom_constant<caf::atom("poll")>;
// the sidecar's timer to return freed memory to the OS after a new snapshot.
using trim_atom = caf::atom_constant<caf::atom("trim")>;
// the commander's API (from the gRPC server, Kubernetes resources): apply a document,
// roll back to a version, the current version, the history.
using apply_atom = caf::atom_constant<caf::atom("apply")>;
using rollback_atom = caf::atom_constant<caf::atom("rollback")>;
using current_atom = caf::atom_constant<caf::atom("current")>;
using history_atom = caf::atom_constant<caf::atom("history")>;
// a source's candidate that failed before it became a document (conflicting resources).
using reject_atom = caf::atom_constant<caf::atom("reject")>;
// remote sidecar → gateway: config version applied; gateway: every sidecar's status.
using ack_atom = caf::atom_constant<caf::atom("ack")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
// sidecar → global-lb (directly, or through its control link and the gateway): the load of
// its `lb: global` services' endpoints, every second; global-lb → sidecar: their weights;
// sidecar → global-lb (a local one, or the control link): where reports go; the API →
// global-lb: one service's table.
using load_atom = caf::atom_constant<caf::atom("load")>;
using weights_atom = caf::atom_constant<caf::atom("weights")>;
using report_to_atom = caf::atom_constant<caf::atom("reportto")>;
using lb_status_atom = caf::atom_constant<caf::atom("lbstatus")>;
// sidecar → signals (directly, or through its control link and the gateway): the golden
// signals of its calls, every second; where they go (a local signals actor, or the control
// link); the API → signals: a query over a window.
using signals_atom = caf::atom_constant<caf::atom("signals")>;
using signals_to_atom = caf::atom_constant<caf::atom("signalsto")>;
using stat_atom = caf::atom_constant<caf::atom("stat")>;
// `meshctl tap`: a tap session (the API's) → the gateway → control links → sidecars, and to
// the node's own sidecar: tap this filter for me, or stop; a sidecar → the session: its
// workers tap (`tapping`, with its name), then the events (`tap`). Workers → their sidecar:
// batches (`tap`); sidecar → workers: the taps to install.
using tap_atom = caf::atom_constant<caf::atom("tap")>;
using untap_atom = caf::atom_constant<caf::atom("untap")>;
using tapping_atom = caf::atom_constant<caf::atom("tapping")>;
// federation gateways (federation/): a peer's gateway introduces itself (protocol version,
// cluster, its handle) and gets this cluster's exports, then each change of them; pings
// measure the link (and find a hung one); a peer's services withdrawn once stale too long.
using hello_atom = caf::atom_constant<caf::atom("fedhello")>;
using exports_atom = caf::atom_constant<caf::atom("exports")>;
using ping_atom = caf::atom_constant<caf::atom("ping")>;
using withdraw_atom = caf::atom_constant<caf::atom("withdraw")>;

using service_map = std::map<std::string, config::service>;

// One accepted version of the mesh config.
struct config_revision {
  uint64_t version = 0;
  std::string source;  // file:PATH, api:CALLER, k8s:NS/NAME, rollback:N by ...
  int64_t applied_unix_ms = 0;
  std::string document;  // left empty in history listings
};

// What an apply or a rollback did.
struct apply_outcome {
  enum code : int32_t { applied = 0, invalid = 1, conflict = 2, not_found = 3 };
  int32_t result = applied;
  uint64_t version = 0;  // the new version, or the current one when nothing changed
  std::vector<std::string> errors;
};

// A sidecar in another process, as the control gateway knows it.
struct sidecar_status {
  std::string name;
  bool connected = false;
  uint64_t config_version = 0;  // the last version it acknowledged
  int64_t acked_unix_ms = 0;
  uint64_t endpoints_version = 0;
  std::vector<std::string> uses;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, config_revision& x) {
  return f(caf::meta::type_name("am.config_revision"), x.version, x.source, x.applied_unix_ms,
           x.document);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, apply_outcome& x) {
  return f(caf::meta::type_name("am.apply_outcome"), x.result, x.version, x.errors);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, sidecar_status& x) {
  return f(caf::meta::type_name("am.sidecar_status"), x.name, x.connected, x.config_version,
           x.acked_unix_ms, x.endpoints_version, x.uses);
}

// Registers every message type with the actor system's config.
void add_message_types(caf::actor_system_config& cfg);

}  // namespace am::actors

namespace am::config {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint& x) {
  return f(caf::meta::type_name("am.endpoint"), x.address, x.port, x.weight, x.labels);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, exported_service& x) {
  return f(caf::meta::type_name("am.exported_service"), x.name, x.address, x.port, x.endpoints,
           x.zones, x.tls);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, pair_signals& x) {
  return f(caf::meta::type_name("am.pair_signals"), x.source, x.destination, x.by_class, x.latency);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, signals_report& x) {
  return f(caf::meta::type_name("am.signals_report"), x.sidecar, x.pairs, x.health);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_health_signal& x) {
  return f(caf::meta::type_name("am.service_health_signal"), x.service, x.breaker, x.ejected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tap_filter& x) {
  return f(caf::meta::type_name("am.tap_filter"), x.service, x.from, x.path_prefix, x.method,
           x.status, x.max_per_second);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tap_event& x) {
  return f(caf::meta::type_name("am.tap_event"), x.unix_ms, x.source, x.destination, x.method,
           x.authority, x.path, x.status, x.grpc_status, x.latency_us, x.endpoint, x.attempt,
           x.error);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, tap_events& x) {
  return f(caf::meta::type_name("am.tap_events"), x.sidecar, x.events, x.dropped);
}

}  // namespace am::config

namespace am::net {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint_load_report& x) {
  return f(caf::meta::type_name("am.endpoint_load_report"), x.endpoint, x.requests, x.errors,
           x.latency_us, x.active, x.ejected);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_load_report& x) {
  return f(caf::meta::type_name("am.service_load_report"), x.service, x.endpoints);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, load_report& x) {
  return f(caf::meta::type_name("am.load_report"), x.sidecar, x.services);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, service_weights& x) {
  return f(caf::meta::type_name("am.service_weights"), x.service, x.endpoints, x.weights);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, weight_table& x) {
  return f(caf::meta::type_name("am.weight_table"), x.version, x.services);
}

}  // namespace am::net

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::weight_table_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::routing_snapshot_ptr)
// A worker's taps and its batches stay between the sidecar and its workers.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::tap_set_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::tap_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<am::net::tap_sink>)
// Service policies hold compiled regular expressions; they stay in-process. Across the
// middleman (control-plane issue) the commander will send the validated document instead.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::actors::service_map)
// Outcomes and health decisions name endpoints by ids a sidecar gives them: in-process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::config::service)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::config::retry_budget_spec)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::endpoint_names)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::outcome_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::service_health_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::usage_report)
