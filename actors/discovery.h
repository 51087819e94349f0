// The discovery actor merges what its sources know into one versioned endpoint table and
// pushes it to subscribers. A source sends its whole view each time; a source that fails
// sends nothing, so its last good view stays (a blip never empties a service). A version at
// most every 50 ms: a change after a quiet spell goes out at once, a burst is coalesced. The
// first version waits for a first view from every source the node configures (at most
// first_view_wait), so sidecars do not turn ready with a part of the endpoints and answer 503
// for a service whose source is a moment slower (Envoy's initial fetch does the same).
#pragma once

#include <chrono>
#include <set>
#include <string>

#include <caf/typed_actor.hpp>

#include "actors/messages.h"
#include "actors/node_context.h"

namespace am::actors {

using endpoints_sink =
    caf::typed_actor<caf::reacts_to<endpoints_atom, uint64_t, config::endpoint_table>>;

using discovery_actor =
    caf::typed_actor<caf::reacts_to<source_atom, std::string, config::endpoint_table>,
                     caf::reacts_to<settle_atom>, caf::reacts_to<subscribe_atom, endpoints_sink>>;

// The names sources report under (source_atom's string).
inline constexpr const char* inline_source = "inline";
inline constexpr const char* etcd_source = "etcd";
inline constexpr const char* kubernetes_source = "kubernetes";
std::string file_source_name(const std::string& path);

// The sources a node's config starts, by the names they report under.
std::set<std::string> configured_sources(const config::node& node);

// A source silent this long (etcd down at start, a malformed file) no longer holds back the
// first version; it joins the table when it reports.
inline constexpr std::chrono::seconds first_view_wait{5};

// `awaited`: the sources the first version waits for (none: the first report makes it).
discovery_actor spawn_discovery(caf::actor_system& sys, node_context& ctx,
                                std::set<std::string> awaited = {});

// Unions the sources' tables; an endpoint listed by two sources appears once.
config::endpoint_table merge_sources(const std::map<std::string, config::endpoint_table>& sources);

}  // namespace am::actors
