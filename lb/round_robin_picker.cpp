#include "lb/round_robin_picker.h"

#include <numeric>

#include "lb/candidates.h"

namespace am::lb {

namespace {

// The most element steps update() spends recording a cycle (about a millisecond).
constexpr uint64_t max_record_steps = uint64_t{1} << 20;

}  // namespace

void round_robin_picker::update(const std::vector<member>& members) {
  // A rotation resumes at the first candidate at or after the position it was due to pick.
  uint32_t resume_at = rotation_ && next_ < cycle_.size() ? cycle_[next_] : 0;
  std::vector<candidate> candidates;
  select_candidates(members, candidates);
  uint32_t divisor = 0;
  for (const auto& c : candidates) {
    divisor = std::gcd(divisor, c.weight);
  }
  positions_.clear();
  weights_.clear();
  total_ = 0;
  for (const auto& c : candidates) {
    positions_.push_back(c.position);
    weights_.push_back(c.weight / divisor);
    total_ += c.weight / divisor;
  }
  current_.assign(positions_.size(), 0);
  cycle_.clear();
  next_ = 0;
  rotation_ = static_cast<size_t>(total_) == positions_.size();  // every weight is 1
  if (rotation_) {
    cycle_ = positions_;
    while (next_ < cycle_.size() && cycle_[next_] < resume_at) {
      ++next_;
    }
    next_ = next_ == cycle_.size() ? 0 : next_;
  } else {
    record_cycle();
  }
}

std::optional<size_t> round_robin_picker::pick(const pick_input& /*in*/) {
  if (!cycle_.empty()) {
    size_t i = next_;
    next_ = i + 1 == cycle_.size() ? 0 : i + 1;
    return cycle_[i];
  }
  if (positions_.empty()) {
    return std::nullopt;
  }
  return positions_[step()];
}

void round_robin_picker::record_cycle() {
  auto length = static_cast<uint64_t>(total_);
  if (length > max_cycle_ || length * positions_.size() > max_record_steps) {
    return;
  }
  cycle_.reserve(length);
  for (uint64_t k = 0; k < length; ++k) {
    cycle_.push_back(positions_[step()]);
  }
  // After a whole cycle every candidate was picked `weight` times: current_ is all zero again.
}

size_t round_robin_picker::step() {
  // Ties go to the lowest index, which is what makes {5, 1, 1} start a a b rather than a b a.
  int64_t* current = current_.data();
  const int64_t* weights = weights_.data();
  size_t n = current_.size();
  size_t best = 0;
  int64_t best_value = current[0] + weights[0];
  current[0] = best_value;
  for (size_t i = 1; i < n; ++i) {
    int64_t v = current[i] + weights[i];
    current[i] = v;
    bool better = v > best_value;
    best = better ? i : best;
    best_value = better ? v : best_value;
  }
  current[best] -= total_;
  return best;
}

}  // namespace am::lb
