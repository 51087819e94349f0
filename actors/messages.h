// Every message type and atom the actors exchange, registered in one place for every node
// (DESIGN.md §2). Types that may cross the middleman have an inspect() overload; the routing
// snapshot and the service policies are marked local-only.
#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/fwd.hpp>
#include <caf/meta/type_name.hpp>

#include "config/model.h"
#include "net/routing_snapshot.h"
#include "net/service_health.h"

namespace am::actors {

// discovery source → discovery: the source's whole current view.
using source_atom = caf::atom_constant<caf::atom("source")>;
// subscriber → discovery / commander: send me your updates.
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
// discovery → subscribers: merged, versioned endpoint table.
using endpoints_atom = caf::atom_constant<caf::atom("endpoints")>;
// commander → subscribers: versioned service policies.
using services_atom = caf::atom_constant<caf::atom("services")>;
// sidecar → worker: a new routing snapshot.
using snapshot_atom = caf::atom_constant<caf::atom("snapshot")>;
// drain: stop accepting and finish what is in flight; drained: a worker is done.
using drain_atom = caf::atom_constant<caf::atom("drain")>;
using drained_atom = caf::atom_constant<caf::atom("drained")>;
// sidecar → breaker: the snapshot version and its endpoint keys; workers → breaker: outcomes;
// breaker → workers: a service's health.
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

using service_map = std::map<std::string, config::service>;

// Registers every message type with the actor system's config.
void add_message_types(caf::actor_system_config& cfg);

}  // namespace am::actors

namespace am::config {

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, endpoint& x) {
  return f(caf::meta::type_name("am.endpoint"), x.address, x.port, x.weight, x.labels);
}

}  // namespace am::config

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::routing_snapshot_ptr)
// Service policies hold compiled regular expressions; they stay in-process. Across the
// middleman (control-plane issue) the commander will send the validated document instead.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::actors::service_map)
// Outcomes and health decisions name endpoints by their index in one snapshot: in-process only.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::outcome_batch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::service_health_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(am::net::usage_report)
