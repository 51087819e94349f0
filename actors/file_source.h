// A discovery source that watches a static YAML endpoint file. It polls the file's identity
// (inode, size, modification time) and re-reads it on a change; a file that does not parse
// is logged and ignored, so the last good endpoints stay in force.
#pragma once

#include <chrono>
#include <string>

#include <caf/typed_actor.hpp>

#include "actors/discovery.h"

namespace am::actors {

using file_source_actor = caf::typed_actor<caf::reacts_to<poll_atom>>;

file_source_actor spawn_file_source(caf::actor_system& sys, node_context& ctx, std::string path,
                                    discovery_actor discovery, std::chrono::milliseconds interval);

}  // namespace am::actors
