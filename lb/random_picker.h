// Weighted random: each pick chooses a candidate with probability weight / sum(weights), drawn
// from an alias table (lb/alias_table.h). Cost: O(n) in update(), O(1) per pick (one multiply and
// one 16-byte load). Reference: Envoy's RandomLoadBalancer, which leaves the weights out.
#pragma once

#include <vector>

#include "lb/alias_table.h"
#include "lb/picker.h"

namespace am::lb {

class random_picker final : public picker {
 public:
  void update(const std::vector<member>& members) override;

  // A candidate drawn by weight with `in.random`; the same bits always give the same candidate.
  std::optional<size_t> pick(const pick_input& in) override;

 private:
  std::vector<uint32_t> positions_;  // of the candidates
  alias_table table_;                // draws an index into positions_
};

}  // namespace am::lb
