#include <catch2/catch.hpp>

#include <map>
#include <random>

#include "lb/round_robin_picker.h"
#include "tests/unit/lb/members.h"

using am::lb::member;
using am::lb::round_robin_picker;
using am::lb::test::with_weights;

namespace {

std::vector<size_t> picks_of(round_robin_picker& p, int n) {
  std::vector<size_t> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(p.pick({}).value());
  }
  return out;
}

}  // namespace

TEST_CASE("round robin: an empty set picks nothing") {
  round_robin_picker p;
  CHECK_FALSE(p.pick({}).has_value());
  p.update({});
  CHECK_FALSE(p.pick({}).has_value());
}

TEST_CASE("round robin: equal weights rotate in order") {
  round_robin_picker p;
  p.update(with_weights({1, 1, 1}));
  CHECK(picks_of(p, 6) == std::vector<size_t>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("round robin: each cycle of sum(weights) picks honours every weight exactly") {
  round_robin_picker p;
  p.update(with_weights({5, 1, 1}));
  for (int cycle = 0; cycle < 3; ++cycle) {
    std::map<size_t, int> counts;
    for (auto i : picks_of(p, 7)) {
      ++counts[i];
    }
    CHECK(counts[0] == 5);
    CHECK(counts[1] == 1);
    CHECK(counts[2] == 1);
  }
}

TEST_CASE("round robin: a heavy endpoint is spread out, not picked in a burst") {
  // nginx's example: weights {5, 1, 1} give a a b a c a a, never five in a row.
  round_robin_picker p;
  p.update(with_weights({5, 1, 1}));
  CHECK(picks_of(p, 7) == std::vector<size_t>{0, 0, 1, 0, 2, 0, 0});
}

TEST_CASE("round robin: an ineligible heavy endpoint takes no picks from the cycle") {
  // The bug this fixes: re-picking a bounded number of times past an ejected endpoint sent 166 of
  // 200 picks to an ejected endpoint of weight 10 next to one of weight 1.
  auto members = with_weights({10, 1});
  members[0].eligible = false;
  round_robin_picker p;
  p.update(members);
  for (auto i : picks_of(p, 200)) {
    REQUIRE(i == 1);
  }
}

TEST_CASE("round robin: an ineligible endpoint is skipped by the rotation") {
  auto members = with_weights({1, 1, 1, 1});
  members[1].eligible = false;
  round_robin_picker p;
  p.update(members);
  CHECK(picks_of(p, 6) == std::vector<size_t>{0, 2, 3, 0, 2, 3});
}

TEST_CASE("round robin: the cycle is the eligible weights exactly, at any weights and mask") {
  // Small weights give cycles that update() records; large ones, and max_cycle 0, are scanned.
  auto max_weight = GENERATE(as<uint32_t>{}, 20, 5'000);
  auto max_cycle = GENERATE(as<size_t>{}, 0, round_robin_picker::default_max_cycle);
  std::mt19937_64 rng{7};
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<member> members(1 + rng() % 12);
    for (auto& m : members) {
      m.weight = static_cast<uint32_t>(1 + rng() % max_weight);
      m.eligible = rng() % 3 != 0;
    }
    members[rng() % members.size()].eligible = true;
    round_robin_picker p{max_cycle};
    p.update(members);
    int total = 0;
    for (const auto& m : members) {
      total += m.eligible ? static_cast<int>(m.weight) : 0;
    }
    for (int cycle = 0; cycle < 2; ++cycle) {
      std::vector<uint32_t> counts(members.size(), 0);
      for (auto i : picks_of(p, total)) {
        ++counts[i];
      }
      for (size_t i = 0; i < members.size(); ++i) {
        REQUIRE(counts[i] == (members[i].eligible ? members[i].weight : 0));
      }
    }
  }
}

TEST_CASE("round robin: a recorded cycle replays exactly what the scan picks") {
  std::mt19937_64 rng{8};
  for (int trial = 0; trial < 100; ++trial) {
    std::vector<member> members(2 + rng() % 20);
    for (auto& m : members) {
      m.weight = static_cast<uint32_t>(1 + rng() % 50);
      m.eligible = rng() % 4 != 0;
    }
    round_robin_picker recorded;
    round_robin_picker scanned{0};
    recorded.update(members);
    scanned.update(members);
    REQUIRE(picks_of(recorded, 3'000) == picks_of(scanned, 3'000));
  }
}

TEST_CASE("round robin: weights with a common factor give the same sequence as reduced ones") {
  round_robin_picker p;
  p.update(with_weights({5'000, 1'000, 1'000}));
  CHECK(picks_of(p, 7) == std::vector<size_t>{0, 0, 1, 0, 2, 0, 0});
}

TEST_CASE("round robin: an update restarts the weighted cycle over the new weights") {
  round_robin_picker p;
  p.update(with_weights({1, 2}));
  picks_of(p, 1);
  p.update(with_weights({5, 1, 1}));
  CHECK(picks_of(p, 7) == std::vector<size_t>{0, 0, 1, 0, 2, 0, 0});
}

TEST_CASE("round robin: a rotation keeps its place across an eligibility change") {
  // Restarting at the first endpoint on every update would favour it when ejections flap.
  auto members = with_weights({1, 1, 1});
  round_robin_picker p;
  p.update(members);
  CHECK(picks_of(p, 2) == std::vector<size_t>{0, 1});
  members[0].eligible = false;
  p.update(members);
  CHECK(picks_of(p, 3) == std::vector<size_t>{2, 1, 2});
}
