#include <catch2/catch.hpp>

#include "federation/exports.h"

using namespace am;
using am::config::endpoint;

namespace {

endpoint at(uint16_t port, std::map<std::string, std::string> labels = {}) {
  return endpoint{"127.0.0.1", port, 1, std::move(labels)};
}

}  // namespace

TEST_CASE("a cluster's own endpoints are those that name no cluster or it") {
  config::endpoint_table merged{
      {"payments", {at(1), at(2, {{"cluster", "east"}}), at(3, {{"cluster", "west"}})}},
      {"orders", {at(4, {{"cluster", "west"}})}}};
  auto local = federation::local_endpoints(merged, "east");
  REQUIRE(local.at("payments").size() == 2);
  CHECK(local.at("payments")[1].port == 2);
  CHECK(local.at("orders").empty());  // known, but only imported: nothing of its own
}

TEST_CASE("exports: services marked export, their local endpoints counted, behind the ingress") {
  std::map<std::string, config::service> services;
  services["payments"].exported = true;
  services["orders"];
  services["ledger"].exported = true;  // exported, no endpoints here
  config::endpoint_table local{
      {"payments", {at(1, {{"zone", "b"}}), at(2, {{"zone", "a"}}), at(3, {{"zone", "a"}})}},
      {"orders", {at(4)}}};
  auto exports = federation::exports_of(local, services, config::listener{"10.0.0.1", 7201}, false);
  REQUIRE(exports.size() == 2);
  CHECK(exports[0] == config::exported_service{"ledger", "10.0.0.1", 7201, 0, {}});
  CHECK(exports[1] == config::exported_service{"payments", "10.0.0.1", 7201, 3, {"a", "b"}});
  auto over_tls = federation::exports_of(local, services, config::listener{"10.0.0.1", 7201}, true);
  CHECK(over_tls[1].tls);
}

TEST_CASE("imports: one endpoint per service with endpoints, labelled with cluster and rank") {
  config::export_list exports{{"payments", "10.0.0.1", 7201, 3, {"a"}},
                              {"ledger", "10.0.0.1", 7201, 0, {}}};
  config::federation_peer west{"west", "10.0.0.9", 7102, 1, 3};
  auto table = federation::imports_of(west, exports);
  REQUIRE(table.size() == 1);  // ledger has nothing behind the ingress: no endpoint
  const auto& ep = table.at("payments").at(0);
  CHECK(ep.address == "10.0.0.1");
  CHECK(ep.port == 7201);
  CHECK(ep.labels.at("cluster") == "west");
  CHECK(ep.labels.at("cluster_rank") == "1");
  CHECK(ep.weight == 3);
  CHECK(ep.labels.count("tls") == 0);               // a plaintext ingress
  CHECK(federation::imports_of(west, {}).empty());  // withdrawn
  exports[0].tls = true;
  CHECK(config::wants_mesh_tls(federation::imports_of(west, exports).at("payments").at(0)));
}
