#include <catch2/catch.hpp>

#include "lb/locality.h"

using am::config::locality_level;
using am::config::locality_spec;
using am::config::location;
using am::lb::priority_of;
using am::lb::priority_shares;

namespace {

location at(std::string zone, std::string region = "r1", std::string node = "",
            std::string cluster = "") {
  return location{std::move(cluster), std::move(region), std::move(zone), std::move(node)};
}

}  // namespace

TEST_CASE("by default the own zone comes first, then the own region, the own cluster, others") {
  locality_spec spec;
  auto self = at("a");
  CHECK(priority_of(self, at("a"), spec) == 0);
  CHECK(priority_of(self, at("b"), spec) == 1);
  CHECK(priority_of(self, at("x", "r2"), spec) == 2);
  CHECK(priority_of(self, at("x", "r2", "", "west"), spec) == 3);
}

TEST_CASE("a sidecar that does not know where it runs puts only other clusters farther") {
  CHECK(priority_of(location{}, at("a"), locality_spec{}) == 0);
  CHECK(priority_of(location{}, at("x", "r2"), locality_spec{}) == 0);
  CHECK(priority_of(location{}, at("", "", "", "west"), locality_spec{}) == 1);
}

TEST_CASE("other clusters come last, one level each in their failover order") {
  auto west = at("", "", "", "west");
  auto north = at("", "", "", "north");
  north.cluster_rank = 1;
  auto self = at("a", "r1", "", "east");
  CHECK(priority_of(self, at("b"), locality_spec{}) == 1);  // no cluster label: its own
  CHECK(priority_of(self, at("x", "r2", "", "east"), locality_spec{}) == 2);
  CHECK(priority_of(self, west, locality_spec{}) == 3);
  CHECK(priority_of(self, north, locality_spec{}) == 4);
  CHECK(priority_of(location{}, north, locality_spec{}) == 2);
}

TEST_CASE("an unknown label never matches") {
  // An endpoint without a zone is not in the sidecar's zone, even if neither says one.
  auto self = at("", "r1");
  CHECK(priority_of(self, at(""), locality_spec{}) == 1);
}

TEST_CASE("node preference and a failover order") {
  locality_spec spec;
  spec.prefer = {locality_level::node, locality_level::zone, locality_level::region};
  spec.failover = {{"a", {"c", "b"}}};
  auto self = at("a", "r1", "n1");
  CHECK(priority_of(self, at("a", "r1", "n1"), spec) == 0);
  CHECK(priority_of(self, at("a", "r1", "n2"), spec) == 1);
  CHECK(priority_of(self, at("c"), spec) == 2);
  CHECK(priority_of(self, at("b"), spec) == 3);
  CHECK(priority_of(self, at("d"), spec) == 4);
  CHECK(priority_of(self, at("d", "r2"), spec) == 5);
  // The rule is only for sidecars in zone a.
  CHECK(priority_of(at("b", "r1", "n3"), at("c"), spec) == 2);
}

TEST_CASE("a level with enough healthy capacity keeps all the traffic") {
  // 3 of 4 healthy: 1.4 * 0.75 >= 1.
  CHECK(priority_shares({3, 4}, {4, 4}, 1.4) == std::vector<double>{1.0, 0.0});
}

TEST_CASE("traffic spills to the next level as the local healthy share falls") {
  auto s = priority_shares({1, 2}, {2, 2}, 1.4);
  CHECK(s[0] == Approx(0.7));
  CHECK(s[1] == Approx(0.3));
  auto gone = priority_shares({0, 2}, {2, 2}, 1.4);
  CHECK(gone[0] == Approx(0.0));
  CHECK(gone[1] == Approx(1.0));
}

TEST_CASE("when the levels together are short of capacity the shares are scaled to fill") {
  // Healths 0.35 and 0.35: each gets half.
  auto s = priority_shares({1, 1}, {4, 4}, 1.4);
  CHECK(s[0] == Approx(0.5));
  CHECK(s[1] == Approx(0.5));
}

TEST_CASE("nothing healthy anywhere: the closest level takes everything") {
  CHECK(priority_shares({0, 0}, {2, 3}, 1.4) == std::vector<double>{1.0, 0.0});
  CHECK(priority_shares({}, {}, 1.4).empty());
}
