// Runs one node: an actor system with the roles its config names, until SIGTERM or SIGINT
// (or POST /quitquitquit), then drains and returns the process exit code.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "config/model.h"

namespace caf {
class actor;
class actor_system;
}  // namespace caf

namespace am::actors {

struct node_context;
struct control_plane_handles;

// Call first thing in main(), before any thread exists: blocks the shutdown signals so that
// only run_node() receives them.
void block_shutdown_signals();

// What runs beside the actors until the node stops (a gRPC server, a watcher thread).
class node_service {
 public:
  virtual ~node_service() = default;
};

// Starts the parts of a control-plane node that need gRPC or libcurl (the API server, the
// etcd and Kubernetes sources). The full `actormesh` executable passes one; the lean
// `actormesh-sidecar` does not, so it never links them.
using control_plane_starter = std::function<std::vector<std::unique_ptr<node_service>>(
    caf::actor_system&, node_context&, const control_plane_handles&, std::string& error)>;

// Starts federation's gateway (federation/, linked by the full executable) and publishes it;
// returns what the node's own sidecar subscribes to for its endpoints (this cluster's own
// only: the ingress never sends a peer's request on to a third cluster), null on failure.
using federation_starter = std::function<caf::actor(
    caf::actor_system&, node_context&, const control_plane_handles&, std::string& error)>;

struct node_launch {
  std::string text;  // the node file's text (its services section is config version 1)
  std::string file;  // the file it came from, watched (empty for the demo)
  control_plane_starter control_plane;
  federation_starter federation;
  const char* executable = "actormesh";
};

// True when `node` needs the parts only a control_plane_starter provides.
bool needs_control_plane_extensions(const config::node& node);

int run_node(const config::node& node, const node_launch& launch);

}  // namespace am::actors
