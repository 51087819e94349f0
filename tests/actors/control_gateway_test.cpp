// The control gateway under CAF's test coordinator: a sidecar that attaches before discovery's
// first version gets that version when it comes, even when its view of it is empty (the first
// version is what makes a sidecar ready); later versions that leave its view as it was are not
// sent again.
#define CAF_SUITE control_gateway
#include "tests/actors/actor_test.h"

#include "actors/control_gateway.h"

using namespace am;
using namespace am::actors;
using am::actors::testing::actor_fixture;
using am::actors::testing::table_of;
using namespace std::chrono_literals;

namespace {

struct fixture : actor_fixture {
  node_context ctx{config::node{}};
  discovery_actor discovery = spawn_discovery(sys, ctx);
  commander_actor commander = spawn_commander(sys, ctx, "", "");
  control_gateway_actor gateway = spawn_control_gateway(sys, ctx, discovery, commander, {}, {});

  fixture() { sched.run(); }

  ~fixture() override { stop(gateway, commander, discovery); }

  // The endpoint versions the gateway sent to the test (attached as a sidecar) since the last
  // call; config documents are skipped.
  std::vector<std::pair<uint64_t, config::endpoint_table>> endpoints_sent() {
    std::vector<std::pair<uint64_t, config::endpoint_table>> out;
    while (!self->mailbox().empty()) {
      self->receive([&](endpoints_atom, uint64_t version,
                        const config::endpoint_table& t) { out.emplace_back(version, t); },
                    [](document_atom, uint64_t, const std::string&) {});
    }
    return out;
  }

  void attach_using(std::vector<std::string> services) {
    self->send(gateway, attach_atom::value, caf::actor_cast<caf::actor>(self), std::string{"sc"},
               std::move(services));
    sched.run();
  }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(control_gateway_tests, fixture)

CAF_TEST(a_sidecar_attached_before_the_first_version_gets_it_even_when_empty) {
  attach_using({"api"});
  CAF_CHECK(endpoints_sent().empty());  // nothing discovered yet
  self->send(discovery, source_atom::value, std::string{"inline"}, table_of("web", 1));
  after(60ms);
  auto first = endpoints_sent();
  CAF_REQUIRE_EQUAL(first.size(), 1u);
  CAF_CHECK_EQUAL(first[0].first, 1u);
  CAF_CHECK(first[0].second.empty());  // it uses api only: an empty view, still a version
  self->send(discovery, source_atom::value, std::string{"inline"}, table_of("web", 2));
  after(60ms);
  CAF_CHECK(endpoints_sent().empty());  // its view did not change
  self->send(discovery, source_atom::value, std::string{"inline"}, table_of("api", 3));
  after(60ms);
  auto next = endpoints_sent();
  CAF_REQUIRE_EQUAL(next.size(), 1u);
  CAF_CHECK_EQUAL(next[0].second.at("api").at(0).port, 3u);
}

CAF_TEST(a_sidecar_attached_after_a_version_gets_its_view_at_once) {
  self->send(discovery, source_atom::value, std::string{"inline"}, table_of("api", 1));
  after(60ms);
  attach_using({});
  auto sent = endpoints_sent();
  CAF_REQUIRE_EQUAL(sent.size(), 1u);
  CAF_CHECK_EQUAL(sent[0].first, 1u);
  CAF_CHECK_EQUAL(sent[0].second.size(), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()
