// The breaker actor under CAF's test coordinator (virtual time): the service's breaker and
// ejection counters (read by /metrics and the golden-signals report) belong to the service's
// newest breaker actor, so one ended by a config change cannot zero what its successor
// decided; its timer runs only while time can change something.
#define CAF_SUITE breaker
#include "tests/actors/actor_test.h"

#include "actors/breaker.h"

using namespace am;
using namespace am::actors;
using am::actors::testing::actor_fixture;
using namespace std::chrono_literals;

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

CAF_TEST(a closed breaker sets no timer and an open one ticks only until it half opens) {
  auto b = spawn_breaker(sys, ctx, "api", {});
  self->send(b, configure_atom::value, api_with_breaker(), endpoints);
  sched.run();
  CAF_CHECK(!sched.has_pending_timeout());  // idle: no wake-ups
  self->send(b, outcomes_atom::value, net::outcome_batch{{{1, 0}}});
  sched.run();
  CAF_CHECK_EQUAL(traffic->breaker_mode.load(), static_cast<int>(net::breaker_mode::open));
  CAF_CHECK(sched.has_pending_timeout());
  after(4s);
  CAF_CHECK_EQUAL(traffic->breaker_mode.load(), static_cast<int>(net::breaker_mode::open));
  after(1s);  // open_ms (5 s) has passed
  CAF_CHECK_EQUAL(traffic->breaker_mode.load(), static_cast<int>(net::breaker_mode::half_open));
  CAF_CHECK(!sched.has_pending_timeout());  // probes close it, not time
  stop(b);
}

CAF_TEST(outlier detection ticks once an interval and every tick while an endpoint is ejected) {
  auto svc = api_with_breaker();
  svc.breaker.reset();
  svc.outlier = config::outlier_spec{};
  svc.outlier->consecutive_5xx = 1;
  svc.outlier->base_ejection_ms = 1'234;  // not a multiple of the 10 s interval
  auto b = spawn_breaker(sys, ctx, "api", {});
  // Two endpoints: at most half of them may be ejected.
  self->send(b, configure_atom::value, svc,
             net::endpoint_names{{1, "127.0.0.1:1"}, {2, "127.0.0.1:2"}});
  sched.run();
  CAF_CHECK(sched.has_pending_timeout());
  self->send(b, outcomes_atom::value, net::outcome_batch{{{1, 503}}});
  sched.run();
  CAF_CHECK_EQUAL(traffic->ejected.load(), 1u);
  // The ejection ends on a tick within 25 ms of its end, not at the next interval's (10 s).
  int64_t t = 0;
  for (; t < 20'000 && traffic->ejected.load() != 0; t += 25) {
    after(25ms);
  }
  CAF_CHECK_EQUAL(traffic->ejected.load(), 0u);
  CAF_CHECK_GREATER_OR_EQUAL(t, 1'234);
  CAF_CHECK_LESS_OR_EQUAL(t, 1'234 + 50);
  stop(b);
}

CAF_TEST_FIXTURE_SCOPE_END()
