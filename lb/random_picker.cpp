#include "lb/random_picker.h"

namespace am::lb {

void random_picker::update(const std::vector<member>& members) {
  std::vector<candidate> candidates;
  select_candidates(members, candidates);
  positions_.clear();
  for (const auto& c : candidates) {
    positions_.push_back(c.position);
  }
  table_.build(candidates);
}

std::optional<size_t> random_picker::pick(const pick_input& in) {
  if (positions_.empty()) {
    return std::nullopt;
  }
  return positions_[table_.draw(in.random)];
}

}  // namespace am::lb
