// The breaker actor under CAF's test coordinator: the service's breaker and ejection counters
// (read by /metrics and the golden-signals report) belong to the service's newest breaker
// actor, so one ended by a config change cannot zero what its successor decided.
#define CAF_SUITE breaker
#include "tests/actors/actor_test.h"

#include "actors/breaker.h"

using namespace am;
using namespace am::actors;
using am::actors::testing::actor_fixture;

namespace {

config::service api_with_breaker() {
  config::service svc;
  svc.name = "api";
  svc.breaker = config::breaker_spec{};
  svc.breaker->consecutive_failures = 1;
  return svc;
}

struct fixture : actor_fixture {
  node_context ctx{config::node{}};
  net::traffic_stats* traffic = ctx.stats.get("api", net::direction::outbound);
  net::endpoint_names endpoints{{1, "127.0.0.1:1"}};
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(breaker_tests, fixture)

CAF_TEST(a breaker records its decisions in the service counters and clears them when it ends) {
  auto b = spawn_breaker(sys, ctx, "api", {});
  self->send(b, configure_atom::value, api_with_breaker(), endpoints);
  self->send(b, outcomes_atom::value, net::outcome_batch{{{1, 0}}});  // one failure opens it
  sched.run();
  CAF_CHECK_EQUAL(traffic->breaker_mode.load(), static_cast<int>(net::breaker_mode::open));
  stop(b);
  CAF_CHECK_EQUAL(traffic->breaker_mode.load(), 0);
}

CAF_TEST(a breaker ended after its successor started leaves the decision of its successor) {
  auto old_breaker = spawn_breaker(sys, ctx, "api", {});
  self->send(old_breaker, configure_atom::value, api_with_breaker(), endpoints);
  sched.run();
  auto new_breaker = spawn_breaker(sys, ctx, "api", {});
  self->send(new_breaker, configure_atom::value, api_with_breaker(), endpoints);
  self->send(new_breaker, outcomes_atom::value, net::outcome_batch{{{1, 0}}});
  sched.run();
  CAF_CHECK_EQUAL(traffic->breaker_mode.load(), static_cast<int>(net::breaker_mode::open));
  // The old one hears of outcomes once more, then ends: neither may touch the counters.
  self->send(old_breaker, outcomes_atom::value, net::outcome_batch{{{1, 200}}});
  stop(old_breaker);
  CAF_CHECK_EQUAL(traffic->breaker_mode.load(), static_cast<int>(net::breaker_mode::open));
  stop(new_breaker);
}

CAF_TEST_FIXTURE_SCOPE_END()
