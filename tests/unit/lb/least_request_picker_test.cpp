#include <catch2/catch.hpp>

#include <random>

#include "lb/least_request_picker.h"
#include "tests/unit/lb/members.h"

using am::lb::least_request_picker;
using am::lb::test::count_picks;
using am::lb::test::fixed_load;
using am::lb::test::with_weights;

TEST_CASE("least request: an empty set picks nothing") {
  least_request_picker p;
  fixed_load load{{}};
  CHECK_FALSE(p.pick({.load = &load}).has_value());
}

TEST_CASE("least request: the idle member of two wins over the busy one") {
  least_request_picker p;
  p.update(with_weights({1, 1}));
  fixed_load load{{10, 0}};
  std::mt19937_64 rng{1};
  auto counts = count_picks(p, 2, 10'000, rng, &load);
  // Two distinct draws out of two always compare both members.
  CHECK(counts[1] == 10'000);
}

TEST_CASE("least request: the two draws are distinct") {
  // One idle member of three is in a distinct pair 2/3 of the time (5/9 with replacement).
  least_request_picker p;
  p.update(with_weights({1, 1, 1}));
  fixed_load load{{10, 10, 0}};
  std::mt19937_64 rng{2};
  auto counts = count_picks(p, 3, 100'000, rng, &load);
  CHECK(counts[2] / 100'000.0 == Approx(2.0 / 3).margin(0.01));
}

TEST_CASE("least request: both draws follow the weights") {
  // Member 0 (weight 2 of 4) wins whenever drawn: first 1/2, else second 2/3, so 5/6 in all.
  least_request_picker p;
  p.update(with_weights({2, 1, 1}));
  fixed_load load{{0, 10, 10}};
  std::mt19937_64 rng{3};
  auto counts = count_picks(p, 3, 100'000, rng, &load);
  CHECK(counts[0] / 100'000.0 == Approx(5.0 / 6).margin(0.01));
}

TEST_CASE("least request: without a load view the picks follow the weights") {
  least_request_picker p;
  p.update(with_weights({3, 1}));
  std::mt19937_64 rng{4};
  auto counts = count_picks(p, 2, 100'000, rng);
  CHECK(counts[0] / 100'000.0 == Approx(0.75).margin(0.02));
}

TEST_CASE(
    "least request: equal loads per weight tie to the first draw, which follows the weights") {
  least_request_picker p;
  p.update(with_weights({3, 1}));
  fixed_load load{{6, 2}};  // 6/3 == 2/1
  std::mt19937_64 rng{5};
  auto counts = count_picks(p, 2, 100'000, rng, &load);
  CHECK(counts[0] / 100'000.0 == Approx(0.75).margin(0.02));
}

TEST_CASE("least request: unequal weights compare active requests per unit of weight") {
  least_request_picker p;
  p.update(with_weights({4, 1}));
  std::mt19937_64 rng{6};
  fixed_load light_busier{{3, 1}};  // 3/4 < 1/1: the heavy member is less loaded
  CHECK(count_picks(p, 2, 1'000, rng, &light_busier)[0] == 1'000);
  fixed_load heavy_busier{{5, 1}};  // 5/4 > 1/1
  CHECK(count_picks(p, 2, 1'000, rng, &heavy_busier)[1] == 1'000);
}

TEST_CASE("least request: an ineligible member is never chosen, however idle") {
  auto members = with_weights({1, 1});
  members[1].eligible = false;
  least_request_picker p;
  p.update(members);
  fixed_load load{{1'000, 0}};
  std::mt19937_64 rng{7};
  CHECK(count_picks(p, 2, 10'000, rng, &load)[0] == 10'000);
}
