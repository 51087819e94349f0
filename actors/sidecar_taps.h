// The sidecar's taps (`meshctl tap`): which sessions tap what, the set its workers install,
// which sessions to tell that every worker taps for them, and where each worker batch's
// events go. Keyed by the session's actor: one session, one tap.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include "config/tap.h"
#include "net/tap_recorder.h"

namespace am::actors {

class sidecar_taps {
 public:
  // Adds (or replaces) the session's tap; the set to publish to every worker.
  net::tap_set_ptr add(caf::actor session, config::tap_filter filter);
  // Removes the session's tap if it has one; the set to publish, or nothing when it had none.
  std::optional<net::tap_set_ptr> remove(const caf::actor_addr& session);
  // A worker installed `generation`: the sessions every one of `workers` now taps for.
  std::vector<caf::actor> installed(uint64_t generation, size_t workers);
  // A worker's batch, as one message per session (dropped counts included).
  std::vector<std::pair<caf::actor, config::tap_events>> route(net::tap_batch& batch,
                                                               const std::string& sidecar);
  size_t size() const { return taps_.size(); }

 private:
  struct tap {
    uint32_t id = 0;
    caf::actor session;
    config::tap_filter filter;
    uint64_t generation = 0;  // the set that first had it
    bool announced = false;
  };
  net::tap_set_ptr make_set();
  tap* find(uint32_t id);

  std::vector<tap> taps_;
  uint32_t next_id_ = 1;
  uint64_t generation_ = 0;
  std::map<uint64_t, size_t> installs_;  // generation → workers that installed it
};

}  // namespace am::actors
