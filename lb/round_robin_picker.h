// Smooth weighted round robin (the nginx algorithm): each pick adds every endpoint's weight to
// its current value, takes the largest and subtracts the total from it. Over one cycle of
// sum(weights) picks every endpoint is chosen exactly `weight` times, and heavy endpoints are
// spread out instead of picked in bursts. O(n) per pick, which is right for the tens of
// endpoints a service has; a larger set would want EDF scheduling (see Envoy's EdfScheduler).
#pragma once

#include "lb/picker.h"

namespace am::lb {

class round_robin_picker final : public picker {
 public:
  explicit round_robin_picker(std::vector<uint32_t> weights);

  std::optional<size_t> pick() override;

 private:
  std::vector<uint32_t> weights_;
  std::vector<int64_t> current_;
  int64_t total_ = 0;
};

}  // namespace am::lb
