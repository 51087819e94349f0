// The signals actor under CAF's test coordinator (virtual time): sidecars' reports, sent as
// the control gateway passes them on, answer the API's queries; pairs silent for longer than
// the longest window are forgotten by its own timer.
#define CAF_SUITE signals
#include "tests/actors/actor_test.h"

#include "actors/signals.h"

using namespace am;
using namespace am::actors;
using am::actors::testing::actor_fixture;
using namespace std::chrono_literals;

namespace {

config::signals_report report(const std::string& sidecar, const std::string& source,
                              const std::string& destination, uint64_t ok, uint64_t failed) {
  config::pair_signals p{source, destination, {ok, 0, 0, failed}, {}};
  p.latency.assign(net::latency_bounds_us.size() + 1, 0);
  p.latency[2] = ok + failed;  // (0.5, 1] ms
  return {sidecar, {p}, {}};
}

struct fixture : actor_fixture {
  node_context ctx{config::node{}};
  signals_actor signals = spawn_signals(sys, ctx);

  ~fixture() override { stop(signals); }

  std::vector<lb::signal_row> stat(lb::signal_query q) {
    std::vector<lb::signal_row> rows;
    auto answer = self->request(signals, caf::infinite, stat_atom::value, q);
    sched.run();
    answer.receive([&](std::vector<lb::signal_row>& r) { rows = std::move(r); },
                   [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return rows;
  }

  config::health_by_sidecar health() {
    config::health_by_sidecar out;
    auto answer = self->request(signals, caf::infinite, health_atom::value);
    sched.run();
    answer.receive([&](config::health_by_sidecar& h) { out = std::move(h); },
                   [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return out;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(signals_tests, fixture)

CAF_TEST(reports_of_two_sidecars_answer_a_query_per_pair_and_per_destination) {
  after(1s);
  self->send(signals, signals_atom::value, report("web-1", "web", "api", 90, 10));
  self->send(signals, signals_atom::value, report("web-2", "web", "api", 50, 0));
  self->send(signals, signals_atom::value, report("batch-1", "batch", "api", 20, 20));
  sched.run();
  auto pairs = stat({lb::signal_window::ten_seconds, "", "api", true});
  CAF_REQUIRE_EQUAL(pairs.size(), 2u);
  CAF_CHECK_EQUAL(pairs[0].source, "batch");
  CAF_CHECK_EQUAL(pairs[1].source, "web");
  CAF_CHECK_EQUAL(pairs[1].requests, 150u);
  CAF_CHECK_EQUAL(pairs[1].failures, 10u);
  CAF_CHECK_EQUAL(pairs[1].sidecars, 2u);
  CAF_CHECK_EQUAL(pairs[1].p50_us, 750u);  // half-way through the (500, 1000] µs bucket
  auto services = stat({lb::signal_window::ten_seconds, "", "", false});
  CAF_REQUIRE_EQUAL(services.size(), 1u);
  CAF_CHECK_EQUAL(services[0].requests, 190u);
  CAF_CHECK_EQUAL(services[0].failures, 30u);
}

CAF_TEST(pairs_silent_longer_than_ten_minutes_are_forgotten) {
  self->send(signals, signals_atom::value, report("web-1", "web", "api", 1, 0));
  sched.run();
  after(9min);
  CAF_CHECK_EQUAL(stat({lb::signal_window::ten_minutes, "", "", true}).size(), 1u);
  after(2min);  // the next expiry after 10 minutes of silence
  CAF_CHECK(stat({lb::signal_window::ten_minutes, "", "", true}).empty());
}

CAF_TEST(each_sidecar_s_latest_health_is_kept_while_it_reports_it) {
  auto unhealthy = report("web-1", "web", "api", 1, 0);
  unhealthy.health = {{"api", 1, 0}, {"users", 0, 2}};
  self->send(signals, signals_atom::value, unhealthy);
  self->send(signals, signals_atom::value, report("web-2", "web", "api", 1, 0));
  sched.run();
  auto h = health();
  CAF_REQUIRE_EQUAL(h.size(), 1u);  // web-2 has nothing open or ejected
  CAF_CHECK(h["web-1"] == unhealthy.health);
  // A report without health: all closed again.
  self->send(signals, signals_atom::value, report("web-1", "web", "api", 1, 0));
  sched.run();
  CAF_CHECK(health().empty());
  // A sidecar that stops reporting (gone) is not shown as open for long.
  self->send(signals, signals_atom::value, unhealthy);
  sched.run();
  after(4s);
  CAF_CHECK_EQUAL(health().size(), 1u);
  after(2s);
  CAF_CHECK(health().empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
