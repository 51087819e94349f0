// Builders shared by the picker tests: member lists and pick counting with a seeded RNG.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <vector>

#include "lb/picker.h"

namespace am::lb::test {

// Eligible members with the given weights and distinct identities derived from the position.
inline std::vector<member> with_weights(const std::vector<uint32_t>& weights) {
  std::vector<member> out;
  for (size_t i = 0; i < weights.size(); ++i) {
    out.push_back({0x5eed0000 + i, weights[i], true});
  }
  return out;
}

// How often each member position is picked in `n` picks, drawing the random bits and key hashes
// from `rng`.
inline std::vector<size_t> count_picks(picker& p, size_t members, size_t n, std::mt19937_64& rng,
                                       const load_view* load = nullptr) {
  std::vector<size_t> counts(members, 0);
  for (size_t i = 0; i < n; ++i) {
    pick_input in;
    in.random = rng();
    in.hash = rng();
    in.load = load;
    ++counts.at(p.pick(in).value());
  }
  return counts;
}

// A load view over a fixed vector of in-flight counts.
class fixed_load final : public load_view {
 public:
  explicit fixed_load(std::vector<uint32_t> active) : active_(std::move(active)) {}

  uint32_t active(size_t member_position) const override { return active_.at(member_position); }

 private:
  std::vector<uint32_t> active_;
};

}  // namespace am::lb::test
