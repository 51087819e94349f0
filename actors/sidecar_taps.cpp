#include "actors/sidecar_taps.h"

#include <algorithm>
#include <memory>

namespace am::actors {

net::tap_set_ptr sidecar_taps::add(caf::actor session, config::tap_filter filter) {
  remove(session.address());
  taps_.push_back({next_id_++, std::move(session), std::move(filter), generation_ + 1, false});
  return make_set();
}

std::optional<net::tap_set_ptr> sidecar_taps::remove(const caf::actor_addr& session) {
  auto n = std::erase_if(taps_, [&](const tap& t) { return t.session.address() == session; });
  if (n == 0) {
    return std::nullopt;
  }
  return make_set();
}

net::tap_set_ptr sidecar_taps::make_set() {
  auto set = std::make_shared<net::tap_set>();
  set->generation = ++generation_;
  for (const auto& t : taps_) {
    set->taps.push_back({t.id, t.filter});
  }
  return set;
}

std::vector<caf::actor> sidecar_taps::installed(uint64_t generation, size_t workers) {
  std::vector<caf::actor> ready;
  if (++installs_[generation] < workers) {
    return ready;
  }
  // Every worker installs the sets in order: this one and all before it are in force.
  installs_.erase(installs_.begin(), installs_.upper_bound(generation));
  for (auto& t : taps_) {
    if (!t.announced && t.generation <= generation) {
      t.announced = true;
      ready.push_back(t.session);
    }
  }
  return ready;
}

sidecar_taps::tap* sidecar_taps::find(uint32_t id) {
  auto i = std::find_if(taps_.begin(), taps_.end(), [&](const tap& t) { return t.id == id; });
  return i == taps_.end() ? nullptr : &*i;
}

std::vector<std::pair<caf::actor, config::tap_events>> sidecar_taps::route(
    net::tap_batch& batch, const std::string& sidecar) {
  std::map<uint32_t, config::tap_events> by_tap;
  for (auto& e : batch.events) {
    by_tap[e.tap].events.push_back(std::move(e.event));
  }
  for (auto [id, n] : batch.dropped) {
    by_tap[id].dropped += n;
  }
  std::vector<std::pair<caf::actor, config::tap_events>> out;
  for (auto& [id, events] : by_tap) {
    if (auto* t = find(id)) {  // else: removed since the worker recorded it
      events.sidecar = sidecar;
      out.emplace_back(t->session, std::move(events));
    }
  }
  return out;
}

}  // namespace am::actors
