#include "policy/backoff.h"

#include <algorithm>

namespace am::policy {

int64_t backoff_delay_ms(const backoff_spec& spec, unsigned retry_index, double unit_random) {
  // Doubling past 2^30 only overflows; the cap is reached long before.
  auto shift = std::min(retry_index, 30u);
  auto ceiling = std::min(spec.max_ms, spec.base_ms << shift);
  return static_cast<int64_t>(static_cast<double>(ceiling) * unit_random);
}

}  // namespace am::policy
