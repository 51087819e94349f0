#include "policy/retry_budget.h"

#include <algorithm>

namespace am::policy {

retry_budget::retry_budget(retry_budget_spec spec) : spec_(spec), window_(spec.window_ms, 10) {}

void retry_budget::record(time_ms now, uint64_t requests, uint64_t retries) {
  window_.add(now, requests, retries);
}

uint64_t retry_budget::available(time_ms now) {
  auto requests = window_.total(now);
  auto retries = window_.marked(now);
  auto floor =
      static_cast<uint64_t>(spec_.min_per_second) * static_cast<uint64_t>(spec_.window_ms) / 1000;
  auto allowed =
      std::max(floor, static_cast<uint64_t>(spec_.ratio * static_cast<double>(requests)));
  return allowed > retries ? allowed - retries : 0;
}

uint64_t retry_budget::lease(time_ms now, unsigned workers) {
  auto left = available(now);
  if (left == 0) {
    return 0;
  }
  return std::max<uint64_t>(1, left / std::max(1u, workers));
}

}  // namespace am::policy
