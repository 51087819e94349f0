#include <catch2/catch.hpp>

#include <map>

#include "lb/round_robin_picker.h"

using am::lb::round_robin_picker;

TEST_CASE("an empty set picks nothing") {
  round_robin_picker p{{}};
  CHECK_FALSE(p.pick().has_value());
}

TEST_CASE("equal weights rotate in order") {
  round_robin_picker p{{1, 1, 1}};
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) {
    picks.push_back(*p.pick());
  }
  CHECK(picks == std::vector<size_t>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("each cycle of sum(weights) picks honours every weight exactly") {
  round_robin_picker p{{5, 1, 1}};
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::map<size_t, int> counts;
    for (int i = 0; i < 7; ++i) {
      ++counts[*p.pick()];
    }
    CHECK(counts[0] == 5);
    CHECK(counts[1] == 1);
    CHECK(counts[2] == 1);
  }
}

TEST_CASE("a heavy endpoint is spread out, not picked in a burst") {
  // nginx's example: weights {5, 1, 1} give a a b a c a a, never five in a row.
  round_robin_picker p{{5, 1, 1}};
  std::vector<size_t> picks;
  for (int i = 0; i < 7; ++i) {
    picks.push_back(*p.pick());
  }
  CHECK(picks == std::vector<size_t>{0, 0, 1, 0, 2, 0, 0});
}
