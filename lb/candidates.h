// The candidate rule every picker shares (see lb/picker.h): which members a pick may return and
// the weight each is chosen by. Pickers compact the candidates into dense arrays in update(), so
// that pick() never looks at an ineligible member: skipping one costs nothing per pick, and an
// ineligible member cannot distort the weights of the others.
#pragma once

#include <cstdint>
#include <vector>

#include "lb/picker.h"

namespace am::lb {

// A member a pick may return, with the weight (always > 0) it is chosen by.
struct candidate {
  uint32_t position = 0;  // in the member list given to update()
  uint32_t weight = 1;
};

// Replaces `out` with the candidates of `members` in member order: the eligible members (all of
// them when none is eligible) that have a weight (all of them at weight 1 when none has).
void select_candidates(const std::vector<member>& members, std::vector<candidate>& out);

}  // namespace am::lb
