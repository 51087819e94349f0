#include "lb/round_robin_picker.h"

namespace am::lb {

round_robin_picker::round_robin_picker(std::vector<uint32_t> weights)
    : weights_(std::move(weights)), current_(weights_.size(), 0) {
  for (auto w : weights_) {
    total_ += w;
  }
}

std::optional<size_t> round_robin_picker::pick() {
  if (weights_.empty()) {
    return std::nullopt;
  }
  size_t best = 0;
  for (size_t i = 0; i < weights_.size(); ++i) {
    current_[i] += weights_[i];
    if (current_[i] > current_[best]) {
      best = i;
    }
  }
  current_[best] -= total_;
  return best;
}

}  // namespace am::lb
