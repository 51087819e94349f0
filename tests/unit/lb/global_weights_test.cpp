#include <catch2/catch.hpp>

#include "lb/global_weights.h"

using am::lb::endpoint_load;
using am::lb::global_weight_settings;
using am::lb::global_weights;

namespace {

// Every window taken at face value (no smoothing), weights in proportion to capacity.
global_weight_settings proportional() {
  global_weight_settings s;
  s.smoothing = 1.0;
  s.floor = 0.05;
  s.split = global_weight_settings::rule::proportional;
  return s;
}

// `requests` completed in one second at `latency_ms` each.
endpoint_load load(uint64_t requests, double latency_ms, uint64_t errors = 0) {
  return endpoint_load{requests, errors, static_cast<double>(requests) * latency_ms / 1000.0};
}

}  // namespace

TEST_CASE("equal endpoints get equal weights") {
  global_weights g{proportional()};
  auto w = g.update({{"a", load(50, 10)}, {"b", load(50, 10)}});
  CHECK(w.at("a") == 1000);
  CHECK(w.at("b") == 1000);
}

TEST_CASE("a slower endpoint gets a weight in proportion to its estimated capacity") {
  global_weights g{proportional()};
  // mu = lambda + 1/L: a = 50 + 100 = 150, b = 50 + 1000/60 = 66.7.
  auto w = g.update({{"a", load(50, 10)}, {"b", load(50, 60)}});
  CHECK(g.capacity("a") == Approx(150));
  CHECK(g.capacity("b") == Approx(66.667).epsilon(0.001));
  CHECK(w.at("a") == 1000);
  CHECK(w.at("b") == 444);
}

TEST_CASE("errors scale an endpoint's capacity down by its success ratio") {
  global_weights g{proportional()};
  auto w = g.update({{"a", load(100, 10)}, {"b", load(100, 10, 50)}});
  CHECK(w.at("b") == 500);
}

TEST_CASE("estimates are smoothed, and an endpoint without traffic keeps its estimate") {
  global_weights g;  // smoothing 0.5, 20 requests for a full step
  g.update({{"a", load(50, 10)}, {"b", load(50, 10)}});
  g.update({{"a", load(50, 10)}, {"b", load(50, 60)}});
  // b: 0.5 * 66.7 + 0.5 * 150 = 108.3.
  CHECK(g.capacity("b") == Approx(108.33).epsilon(0.001));
  g.update({{"a", load(50, 10)}, {"b", endpoint_load{}}});
  CHECK(g.capacity("b") == Approx(108.33).epsilon(0.001));
}

TEST_CASE("a new endpoint starts at the mean capacity; a gone one is forgotten") {
  global_weights g{proportional()};
  g.update({{"a", load(50, 10)}, {"b", load(50, 60)}});
  auto w = g.update({{"a", load(50, 10)}, {"c", endpoint_load{}}});
  CHECK(g.capacity("c") == Approx(150));
  CHECK(g.capacity("b") == 0);
  CHECK(w.count("b") == 0);
}

TEST_CASE("no weight falls below the floor, so a recovering endpoint is still seen") {
  global_weights g{proportional()};
  auto w = g.update({{"a", load(1000, 1)}, {"b", load(1, 5000)}});
  CHECK(w.at("b") == 50);
}

TEST_CASE("a window of few requests moves the estimate proportionally less") {
  auto s = proportional();
  s.smoothing = 0.5;
  global_weights g{s};
  g.update({{"a", load(50, 10)}});  // 150
  g.update({{"a", load(2, 1)}});    // 2 + 1000 = 1002, but with 2 of 20 requests: 1/20 of a step
  CHECK(g.capacity("a") == Approx(150 + 0.05 * (1002 - 150)));
}

TEST_CASE("least latency: at light load a much slower endpoint gets almost nothing") {
  global_weights g;  // the default split
  // 100 requests/s over two fast endpoints (2 ms) and one that became 50 ms slower.
  auto w = g.update({{"a", load(33, 2)}, {"b", load(33, 2)}, {"slow", load(34, 52)}});
  CHECK(w.at("a") == 1000);
  CHECK(w.at("b") == 1000);
  CHECK(w.at("slow") == 10);  // the floor
}

TEST_CASE("least latency: near capacity the split nears proportional to capacity") {
  global_weights g;
  // Capacities 150 (130/s at 50 ms) and 66.7 (50/s at 60 ms), 180 of 216.7 requests/s
  // offered: b gets 52 of them (the proportional split would give it 55).
  auto w = g.update({{"a", load(130, 50)}, {"b", load(50, 60)}});
  REQUIRE(w.at("a") == 1000);
  CHECK(w.at("b") == Approx(406).margin(2));
}

TEST_CASE("least latency: at light load endpoints of like speed still share the traffic") {
  global_weights g;
  // The model alone would send all of 87 requests/s to the slightly faster one.
  auto w = g.update({{"a", load(65, 0.46)}, {"b", load(22, 0.54)}});
  CHECK(w.at("a") == 1000);
  CHECK(w.at("b") > 700);
}
