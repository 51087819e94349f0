// Runs one node: an actor system with the roles its config names, until SIGTERM or SIGINT
// (or POST /quitquitquit), then drains and returns the process exit code.
#pragma once

#include "config/model.h"

namespace am::actors {

// Call first thing in main(), before any thread exists: blocks the shutdown signals so that
// only run_node() receives them.
void block_shutdown_signals();

int run_node(const config::node& node);

}  // namespace am::actors
