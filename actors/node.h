// Runs one node: an actor system with the roles its config names, until SIGTERM or SIGINT
// (or POST /quitquitquit), then drains and returns the process exit code.
#pragma once

#include <string>

#include "config/model.h"

namespace am::actors {

// Call first thing in main(), before any thread exists: blocks the shutdown signals so that
// only run_node() receives them.
void block_shutdown_signals();

// `config_file` (empty for the demo) is watched: service policy edits apply live.
int run_node(const config::node& node, const std::string& config_file = {});

}  // namespace am::actors
