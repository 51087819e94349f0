// The commander owns the mesh config: the `services` document (timeouts, routes, policies per
// service). Its sources are the node file (watched), the gRPC API (apply, rollback) and
// Kubernetes MeshConfig resources. Every candidate is validated whole; a valid one becomes
// the next version and goes to every subscriber, an invalid one changes nothing and its
// errors (field path and reason) go back to the caller and to the audit log.
#pragma once

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::actors {

using services_sink = caf::typed_actor<caf::reacts_to<services_atom, uint64_t, service_map>>;

// Subscribers in other processes get the validated document itself (service policies hold
// compiled regexes and stay in-process).
using document_sink = caf::typed_actor<caf::reacts_to<document_atom, uint64_t, std::string>>;

using commander_actor = caf::typed_actor<
    caf::reacts_to<subscribe_atom, services_sink>, caf::reacts_to<subscribe_atom, document_sink>,
    caf::reacts_to<poll_atom>,
    // (document, expected version or 0, source) → outcome
    caf::replies_to<apply_atom, std::string, uint64_t, std::string>::with<apply_outcome>,
    // (version, caller) → outcome
    caf::replies_to<rollback_atom, uint64_t, std::string>::with<apply_outcome>,
    // (source, errors): a candidate its source could not even build; logged and audited
    caf::reacts_to<reject_atom, std::string, std::vector<std::string>>,
    caf::replies_to<current_atom>::with<config_revision>,
    caf::replies_to<history_atom>::with<std::vector<config_revision>>>;

// `node_text` is the node file's text (its services section is version 1); `watched_file`
// (may be empty) is the file it came from, watched for edits.
commander_actor spawn_commander(caf::actor_system& sys, node_context& ctx, std::string node_text,
                                std::string watched_file);

}  // namespace am::actors
