// One pick per iteration for each picker at 100 endpoints (weights 1..8, five ineligible), through
// the picker interface as a worker calls it. Target: at most 100 ns per pick.
//   g++ -std=c++20 -O2 -I. tools/bench/pick_bench.cpp lb/*.cpp -lbenchmark -lpthread
#include <benchmark/benchmark.h>

#include <array>
#include <random>
#include <vector>

#include "lb/picker.h"

namespace {

using am::lb::algorithm;
using am::lb::member;
using am::lb::pick_input;

constexpr size_t endpoint_count = 100;
constexpr size_t input_count = 4'096;  // a power of two, cycled through by mask

class vector_load final : public am::lb::load_view {
 public:
  explicit vector_load(std::vector<uint32_t> active) : active_(std::move(active)) {}

  uint32_t active(size_t member_position) const override { return active_[member_position]; }

 private:
  std::vector<uint32_t> active_;
};

std::vector<member> endpoints(std::mt19937_64& rng) {
  std::vector<member> members(endpoint_count);
  for (auto& m : members) {
    m.identity = rng();
    m.weight = static_cast<uint32_t>(1 + rng() % 8);
  }
  for (size_t i = 0; i < 5; ++i) {
    members[i * 20 + 3].eligible = false;
  }
  return members;
}

void bm_pick(benchmark::State& state, algorithm a) {
  std::mt19937_64 rng{42};
  auto p = am::lb::make_picker(a);
  p->update(endpoints(rng));
  std::vector<uint32_t> active(endpoint_count);
  for (auto& n : active) {
    n = static_cast<uint32_t>(rng() % 50);
  }
  vector_load load{std::move(active)};
  std::vector<pick_input> inputs(input_count);
  for (auto& in : inputs) {
    in = {rng(), rng(), &load};
  }
  size_t i = 0;
  for (auto _ : state) {
    auto picked = p->pick(inputs[i++ & (input_count - 1)]);
    benchmark::DoNotOptimize(picked);
  }
}

BENCHMARK_CAPTURE(bm_pick, round_robin, algorithm::round_robin);
BENCHMARK_CAPTURE(bm_pick, least_request, algorithm::least_request);
BENCHMARK_CAPTURE(bm_pick, random, algorithm::random);
BENCHMARK_CAPTURE(bm_pick, ring_hash, algorithm::ring_hash);

}  // namespace

BENCHMARK_MAIN();
