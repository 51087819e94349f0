#include <catch2/catch.hpp>

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
