// Intercepted connections find their service by destination: a virtual IP (on its declared
// ports, or any) or an endpoint's address:port; nothing else is a mesh service.
#include <arpa/inet.h>

#include <catch2/catch.hpp>

#include "net/routing_snapshot.h"
#include "net/socket.h"

using namespace am::net;

namespace {

sockaddr_in at(const char* ip, uint16_t port) {
  sockaddr_in a{};
  REQUIRE(make_address(ip, port, a));
  return a;
}

const char* service_at(const routing_snapshot& s, const char* ip, uint16_t port) {
  const auto* svc = s.service_at(at(ip, port));
  return svc == nullptr ? "" : svc->name.c_str();
}

}  // namespace

TEST_CASE("a destination maps to the service of its virtual IP or of its endpoint") {
  std::map<std::string, am::config::service> services;
  services["db"].addresses = {"10.96.0.7"};
  services["db"].ports = {3306};
  services["web"].addresses = {"10.96.0.8"};  // every port
  am::config::endpoint_table endpoints;
  endpoints["db"] = {{"10.1.0.5", 3306, 1, {}}};
  endpoints["web"] = {{"10.1.0.6", 8080, 1, {}}};
  endpoints["api"] = {{"10.1.0.6", 9090, 1, {}}, {"10.1.0.7", 9090, 1, {}}};
  stats_registry stats;
  endpoint_registry ids;
  auto s = build_routing_snapshot(1, services, endpoints, stats, ids);
  CHECK(std::string{service_at(*s, "10.96.0.7", 3306)} == "db");
  CHECK(std::string{service_at(*s, "10.96.0.7", 80)}.empty());  // not a port db declared
  CHECK(std::string{service_at(*s, "10.96.0.8", 80)} == "web");
  CHECK(std::string{service_at(*s, "10.96.0.8", 443)} == "web");
  CHECK(std::string{service_at(*s, "10.1.0.5", 3306)} == "db");
  CHECK(std::string{service_at(*s, "10.1.0.6", 8080)} == "web");
  CHECK(std::string{service_at(*s, "10.1.0.6", 9090)} == "api");
  CHECK(std::string{service_at(*s, "10.1.0.7", 9090)} == "api");
  CHECK(std::string{service_at(*s, "10.1.0.7", 9091)}.empty());
  CHECK(std::string{service_at(*s, "192.0.2.1", 80)}.empty());
}

TEST_CASE("where two services claim an address, a virtual IP wins, then the first by name") {
  std::map<std::string, am::config::service> services;
  services["zeta"].addresses = {"10.1.0.5"};
  services["zeta"].ports = {80};
  services["omega"].addresses = {"10.1.0.9"};  // any port: an endpoint's exact port wins
  am::config::endpoint_table endpoints;
  endpoints["alpha"] = {{"10.1.0.5", 80, 1, {}}, {"10.1.0.6", 80, 1, {}}, {"10.1.0.9", 80, 1, {}}};
  endpoints["beta"] = {{"10.1.0.6", 80, 1, {}}};
  stats_registry stats;
  endpoint_registry ids;
  auto s = build_routing_snapshot(1, services, endpoints, stats, ids);
  CHECK(std::string{service_at(*s, "10.1.0.5", 80)} == "zeta");
  CHECK(std::string{service_at(*s, "10.1.0.6", 80)} == "alpha");
  CHECK(std::string{service_at(*s, "10.1.0.9", 80)} == "alpha");
  CHECK(std::string{service_at(*s, "10.1.0.9", 81)} == "omega");
}
