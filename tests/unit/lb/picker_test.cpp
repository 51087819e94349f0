// The contract every picker shares (lb/picker.h), checked against each algorithm.
#include <catch2/catch.hpp>

#include <random>

#include "lb/picker.h"
#include "tests/unit/lb/members.h"

using am::lb::algorithm;
using am::lb::make_picker;
using am::lb::member;
using am::lb::pick_input;
using am::lb::test::count_picks;
using am::lb::test::fixed_load;
using am::lb::test::with_weights;

namespace {

algorithm any_algorithm() {
  return GENERATE(algorithm::round_robin, algorithm::least_request, algorithm::random,
                  algorithm::ring_hash);
}

// Random weights up to 1000 (a fifth of them 0) and a random eligibility mask.
std::vector<member> random_members(std::mt19937_64& rng) {
  std::vector<member> members(1 + rng() % 16);
  for (auto& m : members) {
    m.identity = rng();
    m.weight = rng() % 5 == 0 ? 0 : static_cast<uint32_t>(1 + rng() % 1'000);
    m.eligible = rng() % 2 == 0;
  }
  return members;
}

}  // namespace

TEST_CASE("every picker: a new picker and an empty set pick nothing") {
  auto p = make_picker(any_algorithm());
  REQUIRE(p != nullptr);
  CHECK_FALSE(p->pick({.random = 1, .hash = 2}).has_value());
  p->update(with_weights({1, 2}));
  CHECK(p->pick({.random = 1, .hash = 2}).has_value());
  p->update({});
  CHECK_FALSE(p->pick({.random = 1, .hash = 2}).has_value());
}

TEST_CASE("every picker: never an ineligible member while one is eligible, at any weights") {
  auto a = any_algorithm();
  std::mt19937_64 rng{11};
  auto p = make_picker(a);
  for (int trial = 0; trial < 300; ++trial) {
    auto members = random_members(rng);
    members[rng() % members.size()].eligible = true;
    bool eligible_weight = false;
    std::vector<uint32_t> active(members.size());
    for (size_t i = 0; i < members.size(); ++i) {
      eligible_weight = eligible_weight || (members[i].eligible && members[i].weight > 0);
      // Ineligible members look idle, so a load-aware picker is tempted by them.
      active[i] = members[i].eligible ? static_cast<uint32_t>(rng() % 100) : 0;
    }
    fixed_load load{active};
    p->update(members);
    for (int i = 0; i < 200; ++i) {
      auto picked = p->pick({.random = rng(), .hash = rng(), .load = &load});
      REQUIRE(picked.has_value());
      REQUIRE(*picked < members.size());
      REQUIRE(members[*picked].eligible);
      REQUIRE((members[*picked].weight > 0 || !eligible_weight));
    }
  }
}

TEST_CASE("every picker: a heavy ineligible member gets nothing") {
  auto p = make_picker(any_algorithm());
  auto members = with_weights({1'000, 1, 1'000, 1});
  members[0].eligible = false;
  members[2].eligible = false;
  p->update(members);
  std::mt19937_64 rng{12};
  fixed_load idle{{0, 0, 0, 0}};
  auto counts = count_picks(*p, 4, 10'000, rng, &idle);
  CHECK(counts[0] == 0);
  CHECK(counts[2] == 0);
  CHECK(counts[1] + counts[3] == 10'000);
}

TEST_CASE("every picker: with every member ineligible, every member is a candidate again") {
  auto p = make_picker(any_algorithm());
  auto members = with_weights({1, 2, 3});
  for (auto& m : members) {
    m.eligible = false;
  }
  p->update(members);
  std::mt19937_64 rng{13};
  for (auto c : count_picks(*p, 3, 10'000, rng)) {
    CHECK(c > 0);
  }
}

TEST_CASE("every picker: weight 0 is a standby, used only when no candidate has a weight") {
  auto p = make_picker(any_algorithm());
  std::mt19937_64 rng{14};
  p->update(with_weights({0, 1, 0}));
  CHECK(count_picks(*p, 3, 10'000, rng)[1] == 10'000);

  p->update(with_weights({0, 0}));
  for (auto c : count_picks(*p, 2, 10'000, rng)) {
    CHECK(c > 0);
  }

  auto members = with_weights({0, 5});
  members[1].eligible = false;  // eligibility comes first: the standby takes the traffic
  p->update(members);
  CHECK(count_picks(*p, 2, 1'000, rng)[0] == 1'000);
}

TEST_CASE("every picker: after an update to fewer members every pick is in range") {
  auto p = make_picker(any_algorithm());
  std::mt19937_64 rng{15};
  p->update(with_weights({1, 2, 3, 4, 5, 6}));
  count_picks(*p, 6, 7, rng);
  p->update(with_weights({2, 1}));
  CHECK(count_picks(*p, 2, 1'000, rng).size() == 2);  // count_picks throws on a bad position
}
