#include <catch2/catch.hpp>

#include "lb/candidates.h"
#include "tests/unit/lb/members.h"

using am::lb::candidate;
using am::lb::select_candidates;
using am::lb::test::with_weights;

namespace {

std::vector<uint32_t> positions(const std::vector<candidate>& cs) {
  std::vector<uint32_t> out;
  for (const auto& c : cs) {
    out.push_back(c.position);
  }
  return out;
}

std::vector<uint32_t> weights(const std::vector<candidate>& cs) {
  std::vector<uint32_t> out;
  for (const auto& c : cs) {
    out.push_back(c.weight);
  }
  return out;
}

}  // namespace

TEST_CASE("candidates: the eligible members with a weight, in member order") {
  auto members = with_weights({3, 0, 2, 5});
  members[3].eligible = false;
  std::vector<candidate> out{{9, 9}};
  select_candidates(members, out);
  CHECK(positions(out) == std::vector<uint32_t>{0, 2});
  CHECK(weights(out) == std::vector<uint32_t>{3, 2});
}

TEST_CASE("candidates: every member when none is eligible") {
  auto members = with_weights({3, 0, 2});
  for (auto& m : members) {
    m.eligible = false;
  }
  std::vector<candidate> out;
  select_candidates(members, out);
  CHECK(positions(out) == std::vector<uint32_t>{0, 2});
}

TEST_CASE("candidates: weight-0 members at weight 1 when no candidate has a weight") {
  auto members = with_weights({0, 7, 0});
  members[1].eligible = false;
  std::vector<candidate> out;
  select_candidates(members, out);
  CHECK(positions(out) == std::vector<uint32_t>{0, 2});
  CHECK(weights(out) == std::vector<uint32_t>{1, 1});
}

TEST_CASE("candidates: none for no members") {
  std::vector<candidate> out{{1, 1}};
  select_candidates({}, out);
  CHECK(out.empty());
}
