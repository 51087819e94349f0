#include "actors/actor_metrics.h"

namespace am::actors {

actor_stats* actor_metrics_registry::get(const std::string& name) {
  std::lock_guard<std::mutex> guard{mutex_};
  auto& slot = stats_[name];
  if (!slot) {
    slot = std::make_unique<actor_stats>(name);
  }
  return slot.get();
}

void actor_metrics_registry::for_each(const std::function<void(const actor_stats&)>& fn) const {
  std::lock_guard<std::mutex> guard{mutex_};
  for (const auto& [name, stats] : stats_) {
    fn(*stats);
  }
}

}  // namespace am::actors
