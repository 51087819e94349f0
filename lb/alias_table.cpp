#include "lb/alias_table.h"

namespace am::lb {

void alias_table::build(const std::vector<candidate>& candidates) {
  // Masses are weight * n against a slot's capacity of sum(weights), so that every slot holds
  // exactly one capacity and no division happens before the keep probabilities.
  size_t n = candidates.size();
  slots_.assign(n, slot{});
  std::vector<uint64_t> mass(n);
  uint64_t capacity = 0;
  for (size_t i = 0; i < n; ++i) {
    mass[i] = uint64_t{candidates[i].weight} * n;
    capacity += candidates[i].weight;
    slots_[i].self = slots_[i].alias = static_cast<uint32_t>(i);
  }
  std::vector<uint32_t> small;
  std::vector<uint32_t> large;
  for (size_t i = 0; i < n; ++i) {
    (mass[i] < capacity ? small : large).push_back(static_cast<uint32_t>(i));
  }
  // Each under-full slot is topped up from an over-full candidate, which may become under-full.
  while (!small.empty() && !large.empty()) {
    uint32_t s = small.back();
    small.pop_back();
    uint32_t l = large.back();
    __extension__ using u128 = unsigned __int128;
    slots_[s].keep = static_cast<uint64_t>((static_cast<u128>(mass[s]) << 64) / capacity);
    slots_[s].alias = l;
    mass[l] -= capacity - mass[s];
    if (mass[l] < capacity) {
      large.pop_back();
      small.push_back(l);
    }
  }
  // What is left holds exactly one capacity each (the arithmetic is exact): keep always.
}

}  // namespace am::lb
