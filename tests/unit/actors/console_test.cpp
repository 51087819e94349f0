// The console's JSON API: what /api/overview says of a gathered view, exactly.
#include "actors/console.h"

#include <catch2/catch.hpp>

using namespace am;
using namespace am::actors;

TEST_CASE("the overview: services, calls, sidecars with their health, peers and actors") {
  console_view v;
  v.node = "cp";
  v.window = "1m";
  v.config_version = 3;
  lb::signal_row api;
  api.destination = "api";
  api.requests = 100;
  api.failures = 25;
  api.requests_per_second = 1.5;
  api.p50_us = 1500;
  api.p95_us = 20000;
  api.p99_us = 40000;
  api.sidecars = 2;
  v.services.push_back(api);
  auto edge = api;
  edge.source = "web\"1";  // escaped
  v.edges.push_back(edge);
  sidecar_status s;
  s.name = "web-1";
  s.connected = true;
  s.config_version = 3;
  s.acked_unix_ms = 42;
  s.endpoints_version = 7;
  s.uses = {"api"};
  v.sidecars.push_back(s);
  s.name = "web-2";
  s.connected = false;
  s.uses.clear();
  v.sidecars.push_back(s);
  v.health["web-1"] = {{"api", 1, 0}, {"users", 2, 1}};
  v.health["gone"] = {{"api", 1, 0}};  // not attached: not shown
  v.federation.cluster = "east";
  v.federation.peers.push_back({"west", "10.0.0.2:7000", true, true, false, 5, 1200, {{"api", 2}}});
  v.actors.push_back({"signals", 10, 1, 2.5});
  CHECK(
      overview_json(v) ==
      "{\"node\":\"cp\",\"window\":\"1m\",\"config_version\":3,"
      "\"services\":[{\"name\":\"api\",\"requests\":100,\"failures\":25,\"success_rate\":0.75,"
      "\"requests_per_s\":1.5,\"p50_ms\":1.5,\"p95_ms\":20,\"p99_ms\":40,\"sidecars\":2}],"
      "\"edges\":[{\"source\":\"web\\\"1\",\"destination\":\"api\",\"requests\":100,"
      "\"failures\":25,\"success_rate\":0.75,\"requests_per_s\":1.5,\"p50_ms\":1.5,"
      "\"p95_ms\":20,\"p99_ms\":40,\"sidecars\":2}],"
      "\"sidecars\":[{\"name\":\"web-1\",\"connected\":true,\"config_version\":3,"
      "\"acked_unix_ms\":42,\"endpoints_version\":7,\"uses\":[\"api\"],"
      "\"health\":[{\"service\":\"api\",\"breaker\":\"open\",\"ejected\":0},"
      "{\"service\":\"users\",\"breaker\":\"half-open\",\"ejected\":1}]},"
      "{\"name\":\"web-2\",\"connected\":false,\"config_version\":3,\"acked_unix_ms\":42,"
      "\"endpoints_version\":7,\"uses\":[],\"health\":[]}],"
      "\"federation\":{\"cluster\":\"east\",\"exported\":[],\"peers\":[{\"name\":"
      "\"west\",\"address\":\"10.0.0.2:7000\",\"connected\":true,\"up\":true,"
      "\"stale\":false,\"last_heard_unix_ms\":5,\"rtt_us\":1200,\"imported\":{\"api\":2}}]},"
      "\"actors\":[{\"name\":\"signals\",\"messages\":10,\"mailbox\":1,\"processing_ms\":2.5}]}\n");
}

TEST_CASE("an overview of a control plane without federation or calls") {
  console_view v;
  v.node = "cp";
  v.window = "10s";
  CHECK(overview_json(v) ==
        "{\"node\":\"cp\",\"window\":\"10s\",\"config_version\":-1,\"services\":[],\"edges\":[],"
        "\"sidecars\":[],\"federation\":null,\"actors\":[]}\n");
}
