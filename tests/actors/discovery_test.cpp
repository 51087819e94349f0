// The discovery actor under CAF's test coordinator (virtual time): the sources' first views
// make one first version; a change after a quiet spell is pushed at once, a burst within 50 ms
// of a version becomes one version at the end of the interval; an update that changes nothing
// makes none.
#define CAF_SUITE discovery
#include "tests/actors/actor_test.h"

#include <optional>

#include "actors/discovery.h"

using namespace am;
using namespace am::actors;
using am::actors::testing::actor_fixture;
using am::actors::testing::table_of;
using namespace std::chrono_literals;

namespace {

struct fixture : actor_fixture {
  node_context ctx{config::node{}};
  discovery_actor discovery = spawn_discovery(sys, ctx);

  fixture() {
    self->send(discovery, subscribe_atom::value, caf::actor_cast<endpoints_sink>(self));
    sched.run();
  }

  ~fixture() override { stop(discovery); }

  // The versions pushed to the test since the last call, in order.
  std::vector<std::pair<uint64_t, config::endpoint_table>> pushed() {
    std::vector<std::pair<uint64_t, config::endpoint_table>> out;
    while (!self->mailbox().empty()) {
      self->receive([&](endpoints_atom, uint64_t version, const config::endpoint_table& t) {
        out.emplace_back(version, t);
      });
    }
    return out;
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(discovery_tests, fixture)

CAF_TEST(the_first_views_of_the_sources_make_one_first_version) {
  self->send(discovery, source_atom::value, std::string{"inline"}, table_of("api", 1));
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("web", 2));
  after(10ms);
  CAF_CHECK(pushed().empty());
  after(40ms);
  auto first = pushed();
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK_EQUAL(first[0].first, 1u);
  CAF_CHECK_EQUAL(first[0].second.size(), 2u);
}

CAF_TEST(a_change_after_a_quiet_spell_goes_at_once_and_a_burst_makes_one_version) {
  after(60ms);  // past the start
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 1));
  sched.run();
  auto first = pushed();
  CAF_REQUIRE_EQUAL(first.size(), 1u);  // no wait
  CAF_CHECK_EQUAL(first[0].first, 1u);
  self->send(discovery, source_atom::value, std::string{"etcd"}, table_of("web", 2));
  self->send(discovery, source_atom::value, std::string{"etcd"}, table_of("web", 3));
  after(10ms);
  CAF_CHECK(pushed().empty());  // within 50 ms of version 1
  after(40ms);
  auto burst = pushed();
  CAF_REQUIRE_EQUAL(burst.size(), 1u);
  CAF_CHECK_EQUAL(burst[0].first, 2u);
  CAF_CHECK_EQUAL(burst[0].second.size(), 2u);
  CAF_CHECK_EQUAL(burst[0].second.at("web").at(0).port, 3u);  // the latest of the burst
}

CAF_TEST(an_update_that_changes_nothing_makes_no_version_and_a_later_one_the_next) {
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 1));
  after(60ms);
  CAF_REQUIRE_EQUAL(pushed().size(), 1u);
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 1));
  after(60ms);
  CAF_CHECK(pushed().empty());
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 4));
  sched.run();
  auto versions = pushed();
  CAF_REQUIRE_EQUAL(versions.size(), 1u);
  CAF_CHECK_EQUAL(versions[0].first, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// A node that configures an inline table and etcd: the first version waits for both.
struct awaiting_fixture : fixture {
  discovery_actor awaiting = spawn_discovery(sys, ctx, {inline_source, etcd_source});

  awaiting_fixture() {
    self->send(awaiting, subscribe_atom::value, caf::actor_cast<endpoints_sink>(self));
    sched.run();
  }

  ~awaiting_fixture() override { stop(awaiting); }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(first_view_tests, awaiting_fixture)

CAF_TEST(the_first_version_waits_for_every_configured_source) {
  self->send(awaiting, source_atom::value, std::string{inline_source}, table_of("web", 1));
  after(1s);
  CAF_CHECK(pushed().empty());  // etcd has not listed yet
  self->send(awaiting, source_atom::value, std::string{etcd_source}, table_of("api", 2));
  sched.run();
  auto first = pushed();
  CAF_REQUIRE_EQUAL(first.size(), 1u);  // at once: the start is more than 50 ms ago
  CAF_CHECK_EQUAL(first[0].first, 1u);
  CAF_CHECK_EQUAL(first[0].second.size(), 2u);
  after(first_view_wait);
  CAF_CHECK(pushed().empty());  // the deadline, passed, makes nothing
}

CAF_TEST(a_silent_source_holds_the_first_version_back_only_until_the_deadline) {
  self->send(awaiting, source_atom::value, std::string{inline_source}, table_of("web", 1));
  after(first_view_wait - 10ms);
  CAF_CHECK(pushed().empty());
  after(10ms);
  auto first = pushed();
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK_EQUAL(first[0].second.count("web"), 1u);
  self->send(awaiting, source_atom::value, std::string{etcd_source}, table_of("api", 2));
  after(50ms);
  auto late = pushed();  // the late source joins (at the interval's end)
  CAF_REQUIRE_EQUAL(late.size(), 1u);
  CAF_CHECK_EQUAL(late[0].second.size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
