#include "actors/file_source.h"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/file_identity.h"
#include "actors/log.h"
#include "config/load.h"

namespace am::actors {

namespace {

struct file_source_state {
  std::string path;
  discovery_actor discovery;
  std::chrono::milliseconds interval{500};
  file_identity seen;
  actor_stats* stats = nullptr;
};

file_source_actor::behavior_type file_source(
    file_source_actor::stateful_pointer<file_source_state> self, node_context* ctx,
    std::string path, discovery_actor discovery, std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.path = std::move(path);
  st.discovery = std::move(discovery);
  st.interval = interval;
  st.stats = ctx->actor_metrics.get("file_source");
  self->send(self, poll_atom::value);
  return {
      [self](poll_atom) {
        metered_handler m{self};
        auto& s = self->state;
        self->delayed_send(self, s.interval, poll_atom::value);
        auto now = identify(s.path);
        if (now == s.seen) {
          return;
        }
        s.seen = now;
        auto parsed = config::load_endpoints_file(s.path);
        if (!parsed.ok()) {
          log_error("discovery file source: rejected, keeping the last good endpoints:\n" +
                    parsed.describe(s.path));
          return;
        }
        log_info("discovery file source: loaded " + s.path);
        self->send(s.discovery, source_atom::value, file_source_name(s.path), *parsed.value);
      },
  };
}

}  // namespace

file_source_actor spawn_file_source(caf::actor_system& sys, node_context& ctx, std::string path,
                                    discovery_actor discovery, std::chrono::milliseconds interval) {
  return sys.spawn(file_source, &ctx, std::move(path), std::move(discovery), interval);
}

}  // namespace am::actors
