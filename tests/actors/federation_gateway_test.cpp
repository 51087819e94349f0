// The federation gateway's protocol under CAF's test coordinator, the test playing the peer
// cluster "east" (which dials, its name sorting first): a hello in another protocol version or
// from a cluster not in federation.peers is refused with an error naming why; a good one is
// answered, gets this cluster's exports and a hello back over the same link; the peer's
// exports are imported only from the gateway that linked, never from another sender.
#define CAF_SUITE federation_gateway
#include "tests/actors/actor_test.h"

#include <caf/scoped_actor.hpp>

#include "actors/commander.h"
#include "actors/discovery.h"
#include "federation/gateway.h"

using namespace am;
using namespace am::actors;
using am::actors::testing::actor_fixture;
using namespace std::chrono_literals;

namespace {

config::node west_node() {
  config::node n;
  n.name = "west-gateway";
  n.federation.cluster = "west";
  n.federation.listen.port = 1;  // not published here: the test talks to the actor directly
  n.federation.ingress = {"10.0.0.2", 7202};
  config::federation_peer east;
  east.name = "east";
  east.port = 7101;
  n.federation.peers.push_back(east);
  return n;
}

struct hello_answer {
  bool ok = false;
  uint32_t version = 0;
  std::string cluster;
  std::string error;
};

struct fixture : actor_fixture {
  node_context ctx{west_node()};
  discovery_actor discovery = spawn_discovery(sys, ctx);
  commander_actor commander =
      spawn_commander(sys, ctx, "services:\n  payments: {export: true}\n  orders: {}\n", "");
  federation::gateway_actor gateway =
      federation::spawn_gateway(sys, ctx, {discovery, commander, {}, {}, {}, {}});

  fixture() {
    self->send(discovery, source_atom::value, std::string{"inline"},
               config::endpoint_table{{"payments", {{"127.0.0.1", 9001, 1, {}}}},
                                      {"orders", {{"127.0.0.1", 9002, 1, {}}}}});
    after(60ms);  // discovery's first version
  }

  ~fixture() override { stop(gateway, commander, discovery); }

  hello_answer hello(uint32_t version, const std::string& cluster) {
    auto r = self->request(gateway, caf::infinite, hello_atom::value, version, cluster,
                           caf::actor_cast<caf::actor>(self));
    sched.run();
    hello_answer a;
    r.receive(
        [&](uint32_t v, std::string& c) {
          a.ok = true;
          a.version = v;
          a.cluster = std::move(c);
        },
        [&](caf::error& e) { a.error = sys.render(e); });
    return a;
  }

  federation_peer_status east_status() { return ctx.status.federation().peers.at(0); }
};

}  // namespace

CAF_TEST_FIXTURE_SCOPE(federation_gateway_tests, fixture)

CAF_TEST(another_protocol_version_or_an_unknown_cluster_is_refused) {
  auto other_version = hello(federation::protocol_version + 1, "east");
  CAF_CHECK(!other_version.ok);
  auto v = federation::protocol_version;
  auto expected =
      "speaks federation protocol " + std::to_string(v + 1) + ", this gateway " + std::to_string(v);
  CAF_CHECK(other_version.error.find(expected) != std::string::npos);
  auto unknown = hello(federation::protocol_version, "mars");
  CAF_CHECK(!unknown.ok);
  CAF_CHECK(unknown.error.find("not in federation.peers") != std::string::npos);
  CAF_CHECK(self->mailbox().empty());  // no exports went to either
  CAF_CHECK(!east_status().connected);
}

CAF_TEST(a_peer_that_dials_gets_the_exports_and_a_hello_back_and_is_imported) {
  auto answer = hello(federation::protocol_version, "east");
  CAF_REQUIRE(answer.ok);
  CAF_CHECK_EQUAL(answer.cluster, "west");
  bool exports_seen = false, hello_back = false;
  while (!self->mailbox().empty()) {
    self->receive(
        [&](exports_atom, const std::string& cluster, const config::export_list& list) {
          exports_seen = true;
          CAF_CHECK_EQUAL(cluster, "west");
          CAF_REQUIRE_EQUAL(list.size(), 1u);  // payments only: orders is not exported
          CAF_CHECK(list[0] == (config::exported_service{"payments", "10.0.0.2", 7202, 1, {}}));
        },
        [&](hello_atom, uint32_t, const std::string& cluster, const caf::actor&) {
          hello_back = true;
          CAF_CHECK_EQUAL(cluster, "west");
          return caf::result<uint32_t, std::string>{federation::protocol_version, "east"};
        });
  }
  CAF_CHECK(exports_seen);
  CAF_CHECK(hello_back);
  sched.run();  // the gateway reads east's answer
  CAF_CHECK(east_status().connected && east_status().up);
  // Exports from anyone but the linked gateway are ignored.
  caf::scoped_actor stranger{sys};
  stranger->send(gateway, exports_atom::value, std::string{"east"},
                 config::export_list{{"payments", "10.9.9.9", 1, 5, {}}});
  sched.run();
  CAF_CHECK(east_status().imported.empty());
  self->send(gateway, exports_atom::value, std::string{"east"},
             config::export_list{{"payments", "10.0.0.1", 7201, 2, {}}});
  sched.run();
  auto east = east_status();
  CAF_CHECK_EQUAL(east.imported.at("payments"), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()
