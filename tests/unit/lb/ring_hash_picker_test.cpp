#include <catch2/catch.hpp>

#include <algorithm>
#include <random>

#include "lb/ring_hash_picker.h"
#include "tests/unit/lb/members.h"

using am::lb::member;
using am::lb::ring_hash_picker;
using am::lb::test::with_weights;

namespace {

constexpr size_t key_count = 100'000;

// Ten equal members with random identities, as addresses would hash.
std::vector<member> ten_members(std::mt19937_64& rng) {
  std::vector<member> members(10);
  for (auto& m : members) {
    m.identity = rng();
  }
  return members;
}

std::vector<uint64_t> random_keys(std::mt19937_64& rng) {
  std::vector<uint64_t> keys(key_count);
  for (auto& k : keys) {
    k = rng();
  }
  return keys;
}

// The identity of the member each key goes to.
std::vector<uint64_t> owners(const std::vector<member>& members,
                             const std::vector<uint64_t>& keys) {
  ring_hash_picker p;
  p.update(members);
  std::vector<uint64_t> out;
  out.reserve(keys.size());
  for (auto k : keys) {
    out.push_back(members.at(p.pick({.hash = k}).value()).identity);
  }
  return out;
}

struct remap {
  double moved = 0;            // fraction of all keys that changed owner
  size_t moved_elsewhere = 0;  // keys that moved although neither owner was `changed`
};

remap compare(const std::vector<uint64_t>& before, const std::vector<uint64_t>& after,
              uint64_t changed) {
  remap r;
  size_t moved = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i] != after[i]) {
      ++moved;
      r.moved_elsewhere += before[i] != changed && after[i] != changed ? 1 : 0;
    }
  }
  r.moved = static_cast<double>(moved) / static_cast<double>(before.size());
  return r;
}

}  // namespace

TEST_CASE("ring hash: an empty set picks nothing") {
  ring_hash_picker p;
  CHECK_FALSE(p.pick({.hash = 1}).has_value());
  p.update({});
  CHECK_FALSE(p.pick({.hash = 1}).has_value());
  CHECK(p.points() == 0);
}

TEST_CASE("ring hash: removing one of ten members moves only the keys it had") {
  std::mt19937_64 rng{1};
  auto members = ten_members(rng);
  auto keys = random_keys(rng);
  auto before = owners(members, keys);
  uint64_t removed = members[3].identity;
  members.erase(members.begin() + 3);
  auto r = compare(before, owners(members, keys), removed);
  CHECK(r.moved >= 0.05);
  CHECK(r.moved <= 0.15);
  CHECK(r.moved_elsewhere == 0);
}

TEST_CASE("ring hash: an ineligible member's keys move and no other key does") {
  std::mt19937_64 rng{2};
  auto members = ten_members(rng);
  auto keys = random_keys(rng);
  auto before = owners(members, keys);
  members[7].eligible = false;
  auto after = owners(members, keys);
  auto r = compare(before, after, members[7].identity);
  CHECK(r.moved >= 0.05);
  CHECK(r.moved <= 0.15);
  CHECK(r.moved_elsewhere == 0);
  CHECK(std::count(after.begin(), after.end(), members[7].identity) == 0);
}

TEST_CASE("ring hash: adding an eleventh member moves about 1/11 of the keys, all to it") {
  std::mt19937_64 rng{3};
  auto members = ten_members(rng);
  auto keys = random_keys(rng);
  auto before = owners(members, keys);
  members.push_back({rng(), 1, true});
  auto r = compare(before, owners(members, keys), members.back().identity);
  CHECK(r.moved > 0.0);
  CHECK(r.moved <= 0.15);
  CHECK(r.moved_elsewhere == 0);
}

TEST_CASE("ring hash: changing one member's weight moves keys only to or from it") {
  std::mt19937_64 rng{4};
  auto members = ten_members(rng);
  for (auto& m : members) {
    m.weight = 2;
  }
  auto keys = random_keys(rng);
  auto before = owners(members, keys);
  members[5].weight = 6;
  auto r = compare(before, owners(members, keys), members[5].identity);
  CHECK(r.moved > 0.05);
  CHECK(r.moved_elsewhere == 0);
}

TEST_CASE("ring hash: the ring is the same for the same identities in any member order") {
  std::mt19937_64 rng{5};
  auto members = ten_members(rng);
  members[2].weight = 3;
  members[6].weight = 5;
  auto keys = random_keys(rng);
  auto before = owners(members, keys);
  std::shuffle(members.begin(), members.end(), rng);
  CHECK(owners(members, keys) == before);
}

TEST_CASE("ring hash: the same key always goes to the same member") {
  ring_hash_picker p;
  p.update(with_weights({1, 2, 3}));
  std::mt19937_64 rng{6};
  for (int i = 0; i < 1'000; ++i) {
    uint64_t key = rng();
    auto first = p.pick({.random = rng(), .hash = key});
    REQUIRE(p.pick({.random = rng(), .hash = key}) == first);
  }
}

TEST_CASE("ring hash: weights 3:1 give about 75% of the keys") {
  std::mt19937_64 rng{7};
  std::vector<member> members{{rng(), 3, true}, {rng(), 1, true}};
  auto keys = random_keys(rng);
  auto after = owners(members, keys);
  auto heavy = std::count(after.begin(), after.end(), members[0].identity);
  CHECK(static_cast<double>(heavy) / key_count == Approx(0.75).margin(0.05));
}

TEST_CASE("ring hash: sequential keys still spread over every member") {
  // std::hash of an integer is the identity: the picker mixes the key before the lookup.
  std::mt19937_64 rng{8};
  auto members = ten_members(rng);
  std::vector<uint64_t> keys(key_count);
  for (size_t i = 0; i < key_count; ++i) {
    keys[i] = i;
  }
  auto after = owners(members, keys);
  for (const auto& m : members) {
    double share = static_cast<double>(std::count(after.begin(), after.end(), m.identity)) /
                   static_cast<double>(key_count);
    CHECK(share >= 0.05);
    CHECK(share <= 0.15);
  }
}

TEST_CASE("ring hash: points follow the weights over the lightest weight's power of two") {
  ring_hash_picker p;
  p.update(with_weights(std::vector<uint32_t>(10, 1)));
  CHECK(p.points() == 10 * ring_hash_picker::points_per_unit);
  p.update(with_weights({100, 100}));  // unit 64: 200 points each
  CHECK(p.points() == 400);
  p.update(with_weights({1, 3}));
  CHECK(p.points() == 4 * ring_hash_picker::points_per_unit);
}

TEST_CASE("ring hash: a large or lopsided set stays within the ring's bound") {
  ring_hash_picker p;
  p.update(with_weights(std::vector<uint32_t>(1'000, 1)));
  CHECK(p.points() <= ring_hash_picker::max_points);
  CHECK(p.points() >= 1'000 * ring_hash_picker::min_points);
  p.update(with_weights({1, 10'000}));
  CHECK(p.points() <= ring_hash_picker::max_points);
  CHECK(p.points() >= 2 * ring_hash_picker::min_points);
}

TEST_CASE("ring hash: with every member ineligible the ring is built over all of them") {
  std::mt19937_64 rng{9};
  auto members = ten_members(rng);
  auto keys = random_keys(rng);
  auto before = owners(members, keys);
  for (auto& m : members) {
    m.eligible = false;
  }
  CHECK(owners(members, keys) == before);
}
