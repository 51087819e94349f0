#include <catch2/catch.hpp>

#include <algorithm>
#include <random>
#include <set>

#include "lb/bits.h"

using am::lb::below;
using am::lb::branchless_partition_point;
using am::lb::mix64;

TEST_CASE("bits: the branch-free binary search agrees with std::partition_point") {
  std::mt19937_64 rng{1};
  for (size_t n = 0; n < 70; ++n) {
    std::vector<uint64_t> a(n);
    for (auto& x : a) {
      x = rng() % 50;  // small values: many duplicates
    }
    std::sort(a.begin(), a.end());
    for (uint64_t key = 0; key < 52; ++key) {
      auto lower = [key](uint64_t x) { return x < key; };
      auto upper = [key](uint64_t x) { return x <= key; };
      REQUIRE(branchless_partition_point(a.data(), n, lower) ==
              static_cast<size_t>(std::partition_point(a.begin(), a.end(), lower) - a.begin()));
      REQUIRE(branchless_partition_point(a.data(), n, upper) ==
              static_cast<size_t>(std::partition_point(a.begin(), a.end(), upper) - a.begin()));
    }
  }
}

TEST_CASE("bits: a bounded draw covers [0, n) and never reaches n") {
  CHECK(below(0, 10) == 0);
  CHECK(below(~uint64_t{0}, 10) == 9);
  CHECK(below(~uint64_t{0}, 1) == 0);
  std::mt19937_64 rng{2};
  std::set<uint64_t> seen;
  for (int i = 0; i < 1'000; ++i) {
    auto v = below(rng(), 7);
    REQUIRE(v < 7);
    seen.insert(v);
  }
  CHECK(seen.size() == 7);
}

TEST_CASE("bits: the mixer spreads sequential inputs over the high bits") {
  std::set<uint64_t> top_bytes;
  for (uint64_t i = 0; i < 4'096; ++i) {
    top_bytes.insert(mix64(i) >> 56);
  }
  CHECK(top_bytes.size() == 256);
  CHECK(mix64(1) != mix64(2));
}
