// Weighted draws in O(1) by Vose's alias method (M. D. Vose, "A Linear Algorithm for Generating
// Random Numbers with a Given Distribution", IEEE TSE 17(9), 1991): n slots of equal probability,
// each keeping its own candidate with some probability and otherwise handing over to one alias,
// so that a draw is one multiply, one load and one compare. Built in O(n) with exact integer
// arithmetic, so the only error is the 2^-64 granularity of a slot's keep probability.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "lb/candidates.h"

namespace am::lb {

class alias_table {
 public:
  // Rebuilds the table for drawing a candidate index with probability weight / sum(weights).
  void build(const std::vector<candidate>& candidates);

  // A candidate index from 64 uniform bits: the high half of random * n picks the slot and the
  // low half, uniform within it, decides between the slot and its alias. Requires a built table
  // with at least one candidate.
  size_t draw(uint64_t random) const {
    __extension__ using u128 = unsigned __int128;
    u128 product = static_cast<u128>(random) * slots_.size();
    const auto& s = slots_[static_cast<size_t>(product >> 64)];
    return static_cast<uint64_t>(product) < s.keep ? s.self : s.alias;
  }

 private:
  struct slot {
    uint64_t keep = ~uint64_t{0};  // keep `self` when the low bits are below this
    uint32_t self = 0;
    uint32_t alias = 0;
  };

  std::vector<slot> slots_;
};

}  // namespace am::lb
