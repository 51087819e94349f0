#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "config/load.h"

using namespace am::config;

namespace {

std::string first_error(const std::string& yaml) {
  auto r = parse_node(yaml);
  REQUIRE_FALSE(r.ok());
  REQUIRE_FALSE(r.errors.empty());
  return r.errors.front().to_string();
}

const char* minimal = R"(
roles: [sidecar, discovery, commander]
services:
  echo:
    timeout: 250ms
    endpoints:
      - {address: 127.0.0.1, port: 8080, weight: 3, labels: {version: v2}}
)";

}  // namespace

TEST_CASE("a minimal node file parses with defaults filled in") {
  auto r = parse_node(minimal);
  REQUIRE(r.ok());
  const auto& n = *r.value;
  CHECK(n.has(role::sidecar));
  CHECK(n.sidecar.outbound.port == 15001);
  CHECK(n.sidecar.admin.port == 15000);
  CHECK(n.sidecar.max_header_bytes == 65536);
  CHECK(n.services.at("echo").timeout == millis{250});
  const auto& ep = n.inline_endpoints.at("echo").at(0);
  CHECK(ep.port == 8080);
  CHECK(ep.weight == 3);
  CHECK(ep.labels.at("version") == "v2");
}

TEST_CASE("an out-of-range port names the field path") {
  auto e = first_error(R"(
roles: [sidecar, discovery, commander]
services:
  echo:
    endpoints:
      - {address: 127.0.0.1, port: 1}
      - {address: 127.0.0.1, port: 2}
      - {address: 127.0.0.1, port: 70000}
)");
  CHECK(e == "services.echo.endpoints[2].port: must be 1..65535, got '70000'");
}

TEST_CASE("tracing: a collector's address and port, a bound on the spans that wait") {
  auto r = parse_node(R"(
roles: [sidecar, discovery, commander]
sidecar:
  tracing: {collector: {address: 10.0.0.7, port: 9411}, max_queue_spans: 500}
)");
  REQUIRE(r.ok());
  CHECK(r.value->sidecar.tracing.enabled());
  CHECK(r.value->sidecar.tracing.address == "10.0.0.7");
  CHECK(r.value->sidecar.tracing.port == 9411);
  CHECK(r.value->sidecar.tracing.max_queue_spans == 500);
  CHECK_FALSE(parse_node(minimal).value->sidecar.tracing.enabled());  // off unless asked
  CHECK(first_error(R"(
roles: [sidecar, discovery, commander]
sidecar: {tracing: {collector: {address: zipkin, port: 9411}}}
)") == "sidecar.tracing.collector.address: must be a numeric IPv4 address");
  CHECK(first_error(R"(
roles: [sidecar, discovery, commander]
sidecar: {tracing: {collector: {port: 9411}, sample: 0.1}}
)")
            .rfind("sidecar.tracing.sample: ", 0) == 0);
}

TEST_CASE("every error of a document is reported, and none yields a value") {
  auto r = parse_node(R"(
roles: [sidecar, discovery, commander, gateway]
sidecar:
  outbound: {address: localhost, port: 15001}
  header_timeout: soon
  unknown_hosts: maybe
  colour: blue
)");
  REQUIRE_FALSE(r.ok());
  std::vector<std::string> paths;
  for (const auto& e : r.errors) {
    paths.push_back(e.path);
  }
  CHECK_THAT(paths, Catch::Matchers::VectorContains(std::string{"roles[3]"}));
  CHECK_THAT(paths, Catch::Matchers::VectorContains(std::string{"sidecar.outbound.address"}));
  CHECK_THAT(paths, Catch::Matchers::VectorContains(std::string{"sidecar.header_timeout"}));
  CHECK_THAT(paths, Catch::Matchers::VectorContains(std::string{"sidecar.unknown_hosts"}));
  CHECK_THAT(paths, Catch::Matchers::VectorContains(std::string{"sidecar.colour"}));
}

TEST_CASE("a YAML syntax error reports its line") {
  auto e = first_error("roles: [sidecar\nfoo: : :\n");
  CHECK(e.rfind("line ", 0) == 0);
}

TEST_CASE("a sidecar without the control-plane roles needs a control plane to attach to") {
  auto e = first_error("roles: [sidecar]\n");
  CHECK(e.rfind("control_plane: a sidecar without the discovery and commander roles", 0) == 0);
  auto ok = parse_node("roles: [sidecar]\ncontrol_plane: {address: 127.0.0.1, port: 15010}\n");
  CHECK(ok.ok());
  CHECK(ok.value->control_plane.port == 15010);
}

TEST_CASE("a sidecar attaches to its control plane by address or by DNS name") {
  auto by_name = parse_node(
      "roles: [sidecar]\ncontrol_plane: {address: actormesh-control-plane.actormesh.svc., "
      "port: 15010}\n");
  REQUIRE(by_name.ok());
  CHECK(by_name.value->control_plane.address == "actormesh-control-plane.actormesh.svc.");
  for (const char* bad : {"-cp.mesh", "cp..mesh", "cp_1.mesh", "cp-.mesh", "cp.mesh:15010"}) {
    INFO(bad);
    auto e = first_error(std::string{"roles: [sidecar]\ncontrol_plane: {address: "} + bad +
                         ", port: 15010}\n");
    CHECK(e == std::string{"control_plane.address: must be a numeric IPv4 address or a DNS "
                           "name, got '"} +
                   bad + "'");
  }
}

TEST_CASE("an enabled inbound listener needs the application's port") {
  auto e = first_error(R"(
roles: [sidecar, discovery, commander]
sidecar:
  inbound: {port: 15006}
)");
  CHECK(e == "sidecar.inbound.app_port: is required when the inbound listener is enabled");
}

TEST_CASE("endpoint files parse and reject bad entries whole") {
  auto ok =
      parse_endpoints("services:\n  a:\n    endpoints:\n      - {address: 10.0.0.1, port: 80}\n");
  REQUIRE(ok.ok());
  CHECK(ok.value->at("a").size() == 1);

  auto bad = parse_endpoints(
      "services:\n  a:\n    endpoints:\n      - {address: 10.0.0.1}\n      - {port: 80, "
      "address: x}\n");
  REQUIRE_FALSE(bad.ok());
  REQUIRE(bad.errors.size() == 2);
  CHECK(bad.errors[0].to_string() == "services.a.endpoints[0].port: is required");
  CHECK(bad.errors[1].to_string() ==
        "services.a.endpoints[1].address: must be a numeric IPv4 address");
}

TEST_CASE("durations take ms, s and m and nothing else") {
  millis v{};
  CHECK(parse_duration("250ms", v));
  CHECK(v == millis{250});
  CHECK(parse_duration("5s", v));
  CHECK(v == millis{5000});
  CHECK(parse_duration("2m", v));
  CHECK(v == millis{120000});
  CHECK_FALSE(parse_duration("5", v));
  CHECK_FALSE(parse_duration("s", v));
  CHECK_FALSE(parse_duration("5h", v));
  CHECK_FALSE(parse_duration("-5s", v));
}

TEST_CASE("the shipped example files are valid") {
  auto demo = load_node_file(std::string{ACTORMESH_SOURCE_DIR} + "/config/examples/demo.yaml");
  CHECK(demo.describe("demo.yaml").empty());
  auto sidecar =
      load_node_file(std::string{ACTORMESH_SOURCE_DIR} + "/config/examples/sidecar.yaml");
  CHECK(sidecar.describe("sidecar.yaml").empty());
  auto eps =
      load_endpoints_file(std::string{ACTORMESH_SOURCE_DIR} + "/config/examples/endpoints.yaml");
  CHECK(eps.describe("endpoints.yaml").empty());
  for (const char* name : {"control-plane.yaml", "remote-sidecar.yaml"}) {
    auto node = load_node_file(std::string{ACTORMESH_SOURCE_DIR} + "/config/examples/" + name);
    CHECK(node.describe(name).empty());
  }
  std::ifstream in{std::string{ACTORMESH_SOURCE_DIR} + "/config/examples/mesh.yaml"};
  std::stringstream mesh;
  mesh << in.rdbuf();
  CHECK(parse_mesh_config(mesh.str()).describe("mesh.yaml").empty());
}

TEST_CASE("a mesh config document holds services only, without endpoints") {
  auto ok = am::config::parse_mesh_config("services:\n  api: {timeout: 3s}\n  web: {}\n");
  REQUIRE(ok.ok());
  CHECK(ok.value->at("api").timeout == std::chrono::milliseconds{3000});
  CHECK(ok.value->count("web") == 1);

  auto bad = am::config::parse_mesh_config(
      "services:\n  api: {timeout: soon, endpoints: []}\nroles: [sidecar]\n");
  REQUIRE(!bad.ok());
  CHECK(bad.errors.size() == 2);  // the endpoints and the unknown `roles` field
  CHECK(!am::config::parse_mesh_config("{}").ok());
}

TEST_CASE("the services document of a node file leaves out endpoints and node settings") {
  auto doc = am::config::services_document(
      "name: n\nroles: [sidecar]\nservices:\n  api:\n    timeout: 2s\n"
      "    endpoints: [{address: 10.0.0.1, port: 80}]\n");
  CHECK(doc.find("endpoints") == std::string::npos);
  CHECK(doc.find("roles") == std::string::npos);
  auto parsed = am::config::parse_mesh_config(doc);
  REQUIRE(parsed.ok());
  CHECK(parsed.value->at("api").timeout == std::chrono::milliseconds{2000});
}

TEST_CASE("transparent mode: the listener, detection and services' virtual addresses") {
  auto r = parse_node(R"(
roles: [sidecar, discovery, commander]
sidecar:
  inbound: {port: 15006, app_port: 8080}
  transparent: {port: 15002, inbound: true, detect_timeout: 50ms, opaque_ports: [25, 3306]}
services:
  db:
    addresses: [10.96.0.7]
    ports: [3306]
)");
  REQUIRE(r.ok());
  const auto& t = r.value->sidecar.transparent;
  CHECK(t.port == 15002);
  CHECK(t.address == "127.0.0.1");
  CHECK(t.address6 == "::1");
  CHECK(t.inbound);
  CHECK(t.detect_timeout == millis{50});
  CHECK(t.opaque_ports == std::vector<uint16_t>{25, 3306});
  CHECK(r.value->services.at("db").addresses == std::vector<std::string>{"10.96.0.7"});
  CHECK(r.value->services.at("db").ports == std::vector<uint16_t>{3306});
  CHECK_FALSE(
      parse_node("roles: [sidecar, discovery, commander]\n").value->sidecar.transparent.enabled());
}

TEST_CASE("transparent mode: bad ports and addresses are named by their path") {
  CHECK(first_error(R"(
roles: [sidecar, discovery, commander]
sidecar:
  transparent: {port: 15002, opaque_ports: [25, 70000]}
)") == "sidecar.transparent.opaque_ports[1]: must be 1..65535, got '70000'");
  CHECK(first_error(R"(
roles: [sidecar, discovery, commander]
sidecar:
  transparent: {port: 15002, detect: yes}
)") == "sidecar.transparent.detect: unknown field");
  CHECK(first_error(R"(
roles: [sidecar, discovery, commander]
sidecar:
  transparent: {port: 15002, inbound: true}
)") == "sidecar.transparent.inbound: needs the inbound listener (sidecar.inbound.port)");
  CHECK(first_error(R"(
roles: [sidecar, discovery, commander]
services:
  db:
    addresses: [10.96.0.7, db.local]
)") == "services.db.addresses[1]: must be a numeric IPv4 address");
}

TEST_CASE("a federation section: the gateway, its ingress on the sidecar, peers in order") {
  auto r = parse_node(R"(
roles: [sidecar, discovery, commander]
federation:
  cluster: east
  listen: {port: 7101}
  ingress: {port: 7201}
  peers:
    - {name: west, port: 7102}
    - {name: north, address: 127.0.0.2, port: 7103, priority: 0, weight: 3}
  stale_after: 2m
services:
  payments: {export: true}
  orders: {}
)");
  REQUIRE(r.ok());
  const auto& f = r.value->federation;
  CHECK(f.enabled());
  CHECK(f.cluster == "east");
  CHECK(f.listen.port == 7101);
  REQUIRE(f.peers.size() == 2);
  CHECK(f.peers[0].name == "west");
  CHECK(f.peers[1].address == "127.0.0.2");
  CHECK(f.peers[0].priority == 0);  // by position...
  CHECK(f.peers[0].weight == 1);
  CHECK(f.peers[1].priority == 0);  // ...or as written
  CHECK(f.peers[1].weight == 3);
  CHECK(f.heartbeat == millis{100});
  CHECK(f.peer_timeout == millis{500});
  CHECK(f.stale_after == millis{120000});
  CHECK(r.value->sidecar.ingress.port == 7201);
  CHECK(r.value->services.at("payments").exported);
  CHECK_FALSE(r.value->services.at("orders").exported);
}

TEST_CASE("a bad federation section names each field") {
  auto r = parse_node(R"(
roles: [sidecar]
control_plane: {port: 7000}
federation:
  listen: {}
  ingress: {port: 7201}
  peers:
    - {name: west, port: 7102}
    - {name: west}
  heartbeat: 1s
  peer_timeout: 500ms
)");
  REQUIRE_FALSE(r.ok());
  std::vector<std::string> errors;
  for (const auto& e : r.errors) {
    errors.push_back(e.to_string());
  }
  auto has = [&](const std::string& prefix) {
    return std::any_of(errors.begin(), errors.end(),
                       [&](const std::string& e) { return e.rfind(prefix, 0) == 0; });
  };
  CHECK(has("federation.cluster: is required"));
  CHECK(has("federation.listen: needs a port"));
  CHECK(has("federation.peers[1].name: 'west' is this cluster or another peer"));
  CHECK(has("federation.peers[1].port: is required"));
  CHECK(has("federation.peer_timeout: must be longer than heartbeat"));
  CHECK(has("federation: needs the discovery and commander roles"));
}
