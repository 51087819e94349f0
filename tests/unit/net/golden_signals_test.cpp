// The sidecar's golden-signal sampler: what the outbound counters gained since the last
// sample, per destination, by response class and latency bucket; inbound traffic and quiet
// destinations left out.
#include "net/golden_signals.h"

#include <catch2/catch.hpp>

using am::net::direction;
using am::net::signals_sampler;
using am::net::stats_registry;

TEST_CASE("a sample is what the outbound counters gained since the last one") {
  stats_registry stats;
  auto* api = stats.get("api", direction::outbound);
  auto* users = stats.get("users", direction::outbound);
  auto* inbound = stats.get("web", direction::inbound);
  for (int i = 0; i < 3; ++i) {
    api->record(200, 2000, 0, 0);  // (1, 2.5] ms: bucket 3
  }
  api->record(503, 300, 0, 0);  // (0.25, 0.5] ms: bucket 1
  api->record(0, 100, 0, 0);    // no response (a connection failure): a failure
  inbound->record(200, 100, 0, 0);
  signals_sampler sampler;
  auto first = sampler.sample(stats, "web-1", "web");
  CHECK(first.sidecar == "web-1");
  REQUIRE(first.pairs.size() == 1);  // users had no calls, inbound is not a pair
  const auto& p = first.pairs[0];
  CHECK(p.source == "web");
  CHECK(p.destination == "api");
  CHECK(p.by_class == std::vector<uint64_t>{3, 0, 0, 2});
  REQUIRE(p.latency.size() == am::net::latency_bounds_us.size() + 1);
  CHECK(p.latency[0] == 1);
  CHECK(p.latency[1] == 1);
  CHECK(p.latency[3] == 3);
  CHECK(sampler.sample(stats, "web-1", "web").pairs.empty());
  users->record(404, 70'000, 0, 0);
  users->record(302, 70'000, 0, 0);
  auto third = sampler.sample(stats, "web-1", "web");
  REQUIRE(third.pairs.size() == 1);
  CHECK(third.pairs[0].destination == "users");
  CHECK(third.pairs[0].by_class == std::vector<uint64_t>{0, 1, 1, 0});
}

TEST_CASE("response classes") {
  CHECK(signals_sampler::response_class(101) == 0);
  CHECK(signals_sampler::response_class(204) == 0);
  CHECK(signals_sampler::response_class(301) == 1);
  CHECK(signals_sampler::response_class(499) == 2);
  CHECK(signals_sampler::response_class(500) == 3);
  CHECK(signals_sampler::response_class(0) == 3);
}

TEST_CASE("a destination's breaker and ejections are reported while they last, then once more") {
  stats_registry stats;
  auto* api = stats.get("api", direction::outbound);
  stats.get("users", direction::outbound);
  signals_sampler sampler;
  auto quiet = sampler.sample(stats, "web-1", "web");
  CHECK(quiet.health.empty());
  CHECK_FALSE(sampler.worth_sending(quiet));  // no calls, nothing open: nothing to say
  api->breaker_mode.store(1);
  api->ejected.store(2);
  auto open = sampler.sample(stats, "web-1", "web");
  REQUIRE(open.health.size() == 1);
  CHECK(open.health[0] == am::config::service_health_signal{"api", 1, 2});
  CHECK(sampler.worth_sending(open));  // no calls, but a breaker open
  CHECK(sampler.worth_sending(sampler.sample(stats, "web-1", "web")));  // still open
  api->breaker_mode.store(0);
  api->ejected.store(0);
  auto closed = sampler.sample(stats, "web-1", "web");
  CHECK(closed.health.empty());
  CHECK(sampler.worth_sending(closed));  // says it is over, once
  CHECK_FALSE(sampler.worth_sending(sampler.sample(stats, "web-1", "web")));
}
