#include <catch2/catch.hpp>

#include <random>

#include "lb/alias_table.h"

using am::lb::alias_table;
using am::lb::candidate;

namespace {

std::vector<candidate> of_weights(const std::vector<uint32_t>& weights) {
  std::vector<candidate> out;
  for (size_t i = 0; i < weights.size(); ++i) {
    out.push_back({static_cast<uint32_t>(i), weights[i]});
  }
  return out;
}

// How often each index is drawn, as a fraction of `draws` seeded draws.
std::vector<double> frequencies(const alias_table& t, size_t n, size_t draws, uint64_t seed) {
  std::mt19937_64 rng{seed};
  std::vector<double> out(n, 0);
  for (size_t i = 0; i < draws; ++i) {
    out.at(t.draw(rng())) += 1.0 / static_cast<double>(draws);
  }
  return out;
}

}  // namespace

TEST_CASE("alias table: draws follow the weights") {
  std::vector<uint32_t> weights{1, 7, 2, 5, 10, 1};
  alias_table t;
  t.build(of_weights(weights));
  auto f = frequencies(t, weights.size(), 500'000, 1);
  for (size_t i = 0; i < weights.size(); ++i) {
    CHECK(f[i] == Approx(weights[i] / 26.0).margin(0.004));
  }
}

TEST_CASE("alias table: equal weights are uniform and one candidate is always drawn") {
  alias_table t;
  t.build(of_weights({4, 4, 4}));
  for (auto f : frequencies(t, 3, 300'000, 2)) {
    CHECK(f == Approx(1.0 / 3).margin(0.005));
  }
  t.build(of_weights({9}));
  CHECK(t.draw(0) == 0);
  CHECK(t.draw(~uint64_t{0}) == 0);
}

TEST_CASE("alias table: random weight vectors give every index its share") {
  std::mt19937_64 rng{3};
  for (int trial = 0; trial < 20; ++trial) {
    std::vector<uint32_t> weights(1 + rng() % 30);
    double total = 0;
    for (auto& w : weights) {
      w = static_cast<uint32_t>(1 + rng() % 1'000);
      total += w;
    }
    alias_table t;
    t.build(of_weights(weights));
    auto f = frequencies(t, weights.size(), 200'000, rng());
    for (size_t i = 0; i < weights.size(); ++i) {
      REQUIRE(f[i] == Approx(weights[i] / total).margin(0.006));
    }
  }
}
