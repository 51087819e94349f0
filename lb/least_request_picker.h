// Least request by the power of two choices (Mitzenmacher, "The Power of Two Choices in
// Randomized Load Balancing", IEEE TPDS 2001; Envoy's LeastRequestLoadBalancer is the reference):
// draw two distinct candidates at random and send to the one with less load. Comparing two random
// candidates instead of scanning for the least loaded avoids the herd that follows stale
// counters, and balances exponentially better than one random choice.
//
// Weights: both candidates are drawn by weight (the second among the others), and load is
// active / weight, compared as a_1 * w_2 < a_2 * w_1. With equal weights this is Envoy's P2C on
// active requests. Envoy's unequal-weight path (EDF over weight / (active + 1)) is not copied:
// comparing (active + 1) / weight would make the heavier of two idle candidates win every time,
// so idle traffic would not follow the weights; with active / weight two idle candidates tie and
// the first draw, which follows the weights, wins. Drawing by weight (not uniformly) is what lets
// a heavy member take more than the 2/n share a uniform pair could ever offer it.
//
// Cost: O(n) in update(); per pick two O(1) alias-table draws (lb/alias_table.h) and two
// load_view::active() calls, plus, when the second draw repeats the first (probability w / sum),
// an O(log n) redraw among the others over prefix sums.
#pragma once

#include <vector>

#include "lb/alias_table.h"
#include "lb/candidates.h"
#include "lb/picker.h"

namespace am::lb {

class least_request_picker final : public picker {
 public:
  void update(const std::vector<member>& members) override;

  // The less loaded of two candidates drawn with `in.random`, by `in.load` (null: all idle, so
  // the first draw); ties go to the first draw, which is itself random.
  std::optional<size_t> pick(const pick_input& in) override;

 private:
  // A candidate index other than `first`, drawn by weight among the others.
  size_t draw_other(uint64_t random, size_t first) const;

  std::vector<candidate> candidates_;
  alias_table table_;           // draws an index into candidates_
  std::vector<uint64_t> ends_;  // ends_[i]: sum of the weights of candidates 0..i
};

}  // namespace am::lb
