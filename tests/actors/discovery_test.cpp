// The discovery actor under CAF's test coordinator (virtual time): updates from its sources
// within the coalescing window become one version; an update that changes nothing makes
// none; a later one makes the next.
#define CAF_SUITE discovery
#define FAIL(m) CAF_FAIL(m)  // 0.17.6: fixture::request<T...>() uses an undefined FAIL
#include "caf/test/dsl.hpp"

#include <optional>

#include "actors/discovery.h"
#include "actors/messages.h"

using namespace am;
using namespace am::actors;
using namespace std::chrono_literals;

namespace {

struct test_config : caf::actor_system_config {
  test_config() { am::actors::add_message_types(*this); }
};

config::endpoint_table table_of(const std::string& service, uint16_t port) {
  return {{service, {config::endpoint{"127.0.0.1", port, 1, {}}}}};
}

struct fixture : test_coordinator_fixture<test_config> {
  node_context ctx{config::node{}};
  discovery_actor discovery = spawn_discovery(sys, ctx);

  fixture() {
    self->send(discovery, subscribe_atom::value, caf::actor_cast<endpoints_sink>(self));
    sched.run();
  }

  ~fixture() override {
    caf::anon_send_exit(discovery, caf::exit_reason::user_shutdown);
    sched.run();
  }

  void after(caf::timespan t) {
    sched.run();
    advance_time(t);
    sched.run();
  }

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

CAF_TEST(updates_within_the_window_make_one_version) {
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 1));
  self->send(discovery, source_atom::value, std::string{"etcd"}, table_of("web", 2));
  self->send(discovery, source_atom::value, std::string{"etcd"}, table_of("web", 3));
  after(10ms);
  CAF_CHECK(pushed().empty());  // the window is still open
  after(40ms);
  auto versions = pushed();
  CAF_REQUIRE_EQUAL(versions.size(), 1u);
  CAF_CHECK_EQUAL(versions[0].first, 1u);
  CAF_CHECK_EQUAL(versions[0].second.size(), 2u);
  CAF_CHECK_EQUAL(versions[0].second.at("web").at(0).port, 3u);  // the latest of the window
}

CAF_TEST(an_update_that_changes_nothing_makes_no_version_and_a_later_one_the_next) {
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 1));
  after(50ms);
  CAF_REQUIRE_EQUAL(pushed().size(), 1u);
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 1));
  after(50ms);
  CAF_CHECK(pushed().empty());
  self->send(discovery, source_atom::value, std::string{"file"}, table_of("api", 4));
  after(50ms);
  auto versions = pushed();
  CAF_REQUIRE_EQUAL(versions.size(), 1u);
  CAF_CHECK_EQUAL(versions[0].first, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
