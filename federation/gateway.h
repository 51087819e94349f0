// Federation's gateway: one per cluster, on its control-plane node, published through the
// middleman. It links to each configured peer's gateway (connecting asynchronously, with a
// timeout and backoff), introduces itself with its protocol version and cluster, and gets the
// peer's exports, then every change of them; each peer's exports become a discovery source
// ("federation:PEER"). It answers peers that link to it with this cluster's exports (the local
// endpoints of `export: true` services, behind its ingress). Pings every `heartbeat` measure
// each link and mark a peer down when it says nothing for `peer_timeout` (a cut or hung link,
// which no closed socket reveals); a down peer's services stay as last known, marked stale,
// until it says otherwise or `stale_after` passes.
//
//   cluster east                                       cluster west
//   discovery ─endpoints─► gateway ◄═══ middleman ═══► gateway ─source "federation:east"─► …
//   commander ─services──►   │  hello, exports, ping
//   node's sidecar (ingress) ◄─ this cluster's own endpoints only
#pragma once

#include <caf/fwd.hpp>
#include <caf/typed_actor.hpp>

#include "actors/control_plane_handles.h"
#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::federation {

// Peers speaking another version are refused, with a log line on both sides.
constexpr uint32_t protocol_version = 2;  // 2: exports say whether the ingress is TLS

using gateway_actor = caf::typed_actor<
    // A peer's gateway introduces itself (protocol, cluster, its handle for our exports):
    // answered with ours.
    caf::replies_to<actors::hello_atom, uint32_t, std::string, caf::actor>::with<uint32_t,
                                                                                 std::string>,
    // A peer's exports, whole, from its cluster.
    caf::reacts_to<actors::exports_atom, std::string, config::export_list>,
    // A peer's ping: the time it sent, echoed.
    caf::replies_to<actors::ping_atom, int64_t>::with<int64_t>,
    // Local: discovery's versions, the commander's policies, and the node's own sidecar (the
    // ingress), which subscribes for this cluster's endpoints only.
    caf::reacts_to<actors::endpoints_atom, uint64_t, config::endpoint_table>,
    caf::reacts_to<actors::services_atom, uint64_t, actors::service_map>,
    caf::reacts_to<actors::subscribe_atom, actors::endpoints_sink>,
    // Timers: ping every peer; reconnect one; withdraw a stale peer's services.
    caf::reacts_to<actors::poll_atom>, caf::reacts_to<actors::reconnect_atom, std::string>,
    caf::reacts_to<actors::withdraw_atom, std::string, uint64_t>>;

// Spawns the gateway (it links to the peers it dials at once).
gateway_actor spawn_gateway(caf::actor_system& sys, actors::node_context& ctx,
                            const actors::control_plane_handles& handles);

// Spawns the gateway and publishes it on `federation.listen`; on failure, `error` says why
// and the result is null.
caf::actor start_gateway(caf::actor_system& sys, actors::node_context& ctx,
                         const actors::control_plane_handles& handles, std::string& error);

}  // namespace am::federation
