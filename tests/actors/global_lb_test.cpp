// The global-lb actor under CAF's test coordinator: deterministic scheduling and virtual
// time (CAF_GUIDE.md §2). Reports in, weights out each second; a sidecar that went quiet gets
// none; the operator's table.
#define CAF_SUITE global_lb
#include "caf/test/unit_test_impl.hpp"  // main(): in one test file only
#include "tests/actors/actor_test.h"

#include <optional>

#include "actors/global_lb.h"

using namespace am;
using namespace am::actors;
using am::actors::testing::actor_fixture;
using namespace std::chrono_literals;

namespace {

// `requests` completed in one second at `latency_ms` each.
net::endpoint_load_report at(const std::string& endpoint, uint64_t requests, double latency_ms) {
  return {endpoint, requests, 0, static_cast<uint64_t>(requests * latency_ms * 1000), 0, false};
}

net::load_report report(const std::string& sidecar) {
  net::load_report r;
  r.sidecar = sidecar;
  r.services.push_back({"api", {at("e1", 100, 2), at("e2", 100, 2), at("slow", 100, 52)}});
  return r;
}

struct fixture : actor_fixture {
  node_context ctx{config::node{}};
  global_lb_actor lb = spawn_global_lb(sys, ctx);

  // The base class runs until nothing is left to do, timers included: the global-lb's
  // one-second tick would never let it finish.
  ~fixture() override { stop(lb); }

  // Lets one second pass: the global-lb's tick, and every message it sends.
  void one_second() {
    sched.run();
    advance_time(1s);
    sched.run();
  }

  // The weight table waiting in the test's mailbox, if any.
  std::optional<net::weight_table> weights_received() {
    std::optional<net::weight_table> out;
    while (!self->mailbox().empty()) {
      self->receive([&](weights_atom, const net::weight_table& t) { out = t; });
    }
    return out;
  }

  // The global-lb's table of `service` (its answer is waiting once the scheduler ran).
  lb_table table_of(const std::string& service) {
    auto answer = self->request(lb, caf::infinite, lb_status_atom::value, service);
    sched.run();
    lb_table t;
    answer.receive([&](lb_table& x) { t = std::move(x); },
                   [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return t;
  }

  uint32_t weight_of(const net::weight_table& t, const std::string& endpoint) {
    const auto& svc = t.services.at(0);
    for (size_t i = 0; i < svc.endpoints.size(); ++i) {
      if (svc.endpoints[i] == endpoint) {
        return svc.weights[i];
      }
    }
    return 0;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(global_lb_tests, fixture)

CAF_TEST(reports_in_weights_out_to_the_reporting_sidecar) {
  self->send(lb, load_atom::value, report("a"));
  one_second();
  auto t = weights_received();
  CAF_REQUIRE(t.has_value());
  CAF_REQUIRE_EQUAL(t->services.size(), 1u);
  CAF_CHECK_EQUAL(t->services[0].service, "api");
  CAF_CHECK_EQUAL(weight_of(*t, "e1"), 1000u);
  CAF_CHECK_EQUAL(weight_of(*t, "e2"), 1000u);
  CAF_CHECK_EQUAL(weight_of(*t, "slow"), 10u);  // the floor: 50 ms slower at light load
}

CAF_TEST(every_window_counts_each_sidecar_once_with_its_latest_report) {
  caf::scoped_actor other{sys};  // another sidecar, of the same name
  self->send(lb, load_atom::value, report("a"));
  self->send(lb, load_atom::value, report("a"));  // a late and a new report of one sidecar
  other->send(lb, load_atom::value, report("a"));
  one_second();
  weights_received();
  auto table = table_of("api");
  CAF_CHECK(table.known);
  CAF_CHECK_EQUAL(table.sidecars, 2u);
  CAF_REQUIRE_EQUAL(table.endpoints.size(), 3u);
  CAF_CHECK_EQUAL(table.endpoints[0].endpoint, "e1");
  CAF_CHECK_EQUAL(table.endpoints[0].requests_per_s, 200.0);
}

CAF_TEST(a_sidecar_that_went_quiet_gets_no_weights) {
  self->send(lb, load_atom::value, report("a"));
  one_second();
  CAF_CHECK(weights_received().has_value());
  // Its report stays good for three seconds, then it is quiet.
  one_second();
  one_second();
  weights_received();
  one_second();
  CAF_CHECK(!weights_received().has_value());
}

CAF_TEST(a_service_nobody_reported_has_no_table) {
  auto table = table_of("nothing");
  CAF_CHECK(!table.known);
  CAF_CHECK(table.endpoints.empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
