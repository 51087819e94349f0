#include <catch2/catch.hpp>

#include <random>

#include "lb/random_picker.h"
#include "tests/unit/lb/members.h"

using am::lb::random_picker;
using am::lb::test::count_picks;
using am::lb::test::with_weights;

TEST_CASE("random: an empty set picks nothing") {
  random_picker p;
  CHECK_FALSE(p.pick({}).has_value());
  p.update({});
  CHECK_FALSE(p.pick({.random = 12345}).has_value());
}

TEST_CASE("random: weights 3:1 give 75% within 2% over 100k picks") {
  random_picker p;
  p.update(with_weights({3, 1}));
  std::mt19937_64 rng{1};
  auto counts = count_picks(p, 2, 100'000, rng);
  CHECK(counts[0] / 100'000.0 == Approx(0.75).margin(0.02));
}

TEST_CASE("random: every member's share follows its weight") {
  random_picker p;
  p.update(with_weights({1, 2, 3, 4, 10}));
  std::mt19937_64 rng{2};
  auto counts = count_picks(p, 5, 200'000, rng);
  for (size_t i = 0; i < 5; ++i) {
    double expected = std::vector<double>{1, 2, 3, 4, 10}[i] / 20.0;
    CHECK(counts[i] / 200'000.0 == Approx(expected).margin(0.01));
  }
}

TEST_CASE("random: equal weights are uniform") {
  random_picker p;
  p.update(with_weights({7, 7, 7, 7}));
  std::mt19937_64 rng{3};
  auto counts = count_picks(p, 4, 100'000, rng);
  for (auto c : counts) {
    CHECK(c / 100'000.0 == Approx(0.25).margin(0.01));
  }
}

TEST_CASE("random: an ineligible heavy member takes no share") {
  auto members = with_weights({10, 1, 1});
  members[0].eligible = false;
  random_picker p;
  p.update(members);
  std::mt19937_64 rng{4};
  auto counts = count_picks(p, 3, 10'000, rng);
  CHECK(counts[0] == 0);
  CHECK(counts[1] / 10'000.0 == Approx(0.5).margin(0.03));
}

TEST_CASE("random: the same bits always give the same member") {
  random_picker p;
  p.update(with_weights({1, 5, 2, 9}));
  std::mt19937_64 rng{5};
  for (int i = 0; i < 1'000; ++i) {
    uint64_t bits = rng();
    auto first = p.pick({.random = bits});
    REQUIRE(p.pick({.random = bits, .hash = rng()}) == first);
  }
}

TEST_CASE("random: a weight of 1 next to 10,000 still gets its share") {
  random_picker p;
  p.update(with_weights({10'000, 1}));
  std::mt19937_64 rng{6};
  auto counts = count_picks(p, 2, 2'000'000, rng);
  CHECK(counts[1] / 2'000'000.0 == Approx(1.0 / 10'001).margin(0.00005));
}
