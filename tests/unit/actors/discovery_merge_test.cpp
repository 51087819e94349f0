#include <catch2/catch.hpp>

#include "actors/control_gateway.h"
#include "actors/discovery.h"

using namespace am;

TEST_CASE("sources merge per service and an endpoint two sources list appears once") {
  config::endpoint a{"10.0.0.1", 80, 1, {}};
  config::endpoint b{"10.0.0.2", 80, 1, {}};
  std::map<std::string, config::endpoint_table> sources;
  sources["file"] = {{"echo", {a}}, {"mail", {b}}};
  sources["etcd"] = {{"echo", {a, b}}};
  auto merged = actors::merge_sources(sources);
  REQUIRE(merged.size() == 2);
  CHECK(merged["echo"].size() == 2);
  CHECK(merged["mail"].size() == 1);
}

TEST_CASE("a sidecar that names the services it uses gets only their endpoints") {
  config::endpoint a{"10.0.0.1", 80, 1, {}};
  config::endpoint_table table{{"echo", {a}}, {"mail", {a}}, {"web", {a}}};
  auto some = actors::endpoints_for(table, {"mail", "absent"});
  REQUIRE(some.size() == 1);
  CHECK(some.count("mail") == 1);
  CHECK(actors::endpoints_for(table, {}).size() == 3);
}
