// Simulated sidecars for the apply → acks benchmark: one process, one actor system, N actors
// that each attach to a control gateway over the middleman as a sidecar's control link does,
// parse every config document they get (as a real sidecar would) and acknowledge it.
// Usage: sim_sidecars HOST PORT COUNT NAME_PREFIX   (runs until SIGTERM/SIGINT)
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

#include "actors/control_gateway.h"
#include "config/load.h"

namespace {

using namespace am;

caf::behavior simulated_link(caf::event_based_actor* self, actors::control_gateway_actor gateway,
                             std::string name) {
  self->send(gateway, actors::attach_atom::value, caf::actor_cast<caf::actor>(self), name,
             std::vector<std::string>{});
  return {
      [](actors::endpoints_atom, uint64_t, const config::endpoint_table&) {},
      [=](actors::document_atom, uint64_t version, const std::string& text) {
        if (config::parse_mesh_config(text).ok()) {
          self->send(gateway, actors::ack_atom::value, version);
        }
      },
  };
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: sim_sidecars HOST PORT COUNT NAME_PREFIX\n");
    return 2;
  }
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  caf::actor_system_config cfg;
  actors::add_message_types(cfg);
  cfg.load<caf::io::middleman>();
  cfg.set("scheduler.max-threads", size_t{2});
  caf::actor_system sys{cfg};
  auto gateway = sys.middleman().remote_actor<actors::control_gateway_actor>(
      argv[1], static_cast<uint16_t>(std::atoi(argv[2])));
  if (!gateway) {
    std::fprintf(stderr, "sim_sidecars: cannot reach %s:%s: %s\n", argv[1], argv[2],
                 sys.render(gateway.error()).c_str());
    return 1;
  }
  int count = std::atoi(argv[3]);
  for (int i = 0; i < count; ++i) {
    sys.spawn(simulated_link, *gateway, std::string{argv[4]} + std::to_string(i));
  }
  std::fprintf(stderr, "sim_sidecars: %d attached\n", count);
  int sig = 0;
  sigwait(&set, &sig);
  std::_Exit(0);  // no orderly teardown needed: the gateway sees the connection close
}
