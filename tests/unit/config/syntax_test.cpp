// What a config may write into heads: tokens for names and methods, values without CR, LF,
// NUL or other controls; limits on documents from the API and Kubernetes.
#include <catch2/catch.hpp>

#include "config/load.h"
#include "config/syntax.h"

using namespace am::config;

TEST_CASE("header names and methods are tokens") {
  CHECK(is_http_token("x-request-id"));
  CHECK(is_http_token("GET"));
  CHECK(is_http_token("X_Weird!#$%&'*+-.^_`|~1"));
  CHECK_FALSE(is_http_token(""));
  CHECK_FALSE(is_http_token("bad name"));
  CHECK_FALSE(is_http_token("x:y"));
  CHECK_FALSE(is_http_token("x\r\ny"));
  CHECK_FALSE(is_http_token("caf\xc3\xa9"));
}

TEST_CASE("header values have no CR, LF, NUL or other controls") {
  CHECK(is_http_field_value("text/plain; charset=utf-8"));
  CHECK(is_http_field_value("a\tb"));
  CHECK(is_http_field_value(""));
  CHECK(is_http_field_value("caf\xc3\xa9"));  // obs-text passes
  CHECK_FALSE(is_http_field_value("a\r\nInjected: 1"));
  CHECK_FALSE(is_http_field_value("a\nb"));
  CHECK_FALSE(is_http_field_value(std::string{"a\0b", 3}));
  CHECK_FALSE(is_http_field_value("a\x7f"));
  CHECK_FALSE(is_http_field_value(" padded"));
}

TEST_CASE("service names are 1 to 63 letters, digits, '-', '.', '_'") {
  CHECK(valid_service_name("payments-v2.prod_eu"));
  CHECK_FALSE(valid_service_name(""));
  CHECK_FALSE(valid_service_name(std::string(64, 'a')));
  CHECK_FALSE(valid_service_name("not a name!"));
}

TEST_CASE("a mesh config over the size limits is refused whole, naming the limit") {
  std::string big = "services:\n  api: {}\n# " + std::string(max_document_bytes, 'x') + "\n";
  auto r = parse_mesh_config(big);
  REQUIRE_FALSE(r.ok());
  CHECK_THAT(r.errors.front().to_string(), Catch::Matchers::Contains("at most 4194304"));

  std::string many = "services:\n";
  for (size_t i = 0; i <= max_services; ++i) {
    many += "  s" + std::to_string(i) + ": {}\n";
  }
  r = parse_mesh_config(many);
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.front().to_string() == "services: has 10001 services; at most 10000 are accepted");

  std::string routes = "services:\n  api:\n    routes:\n";
  for (size_t i = 0; i <= max_routes_per_service; ++i) {
    routes += "      - {name: r" + std::to_string(i) + "}\n";
  }
  r = parse_mesh_config(routes);
  REQUIRE_FALSE(r.ok());
  CHECK(r.errors.front().to_string() ==
        "services.api.routes: has 257 routes; at most 256 are accepted");
}

TEST_CASE("header operations, methods and access names are validated with their paths") {
  auto r = parse_mesh_config(R"(services:
  api:
    routes:
      - match: {methods: [GET, "GE T"]}
        request_headers: {set: {x-ok: "a\r\nInjected: 1", "bad name": v}, remove: ["x y"]}
    access: {allow: [web, "not a name!"], deny: [""]}
)");
  REQUIRE_FALSE(r.ok());
  std::vector<std::string> errors;
  for (const auto& e : r.errors) {
    errors.push_back(e.to_string());
  }
  using Catch::Matchers::VectorContains;
  CHECK_THAT(errors, VectorContains(std::string{
                         "services.api.routes[0].match.methods[1]: is no valid method (an HTTP "
                         "token such as GET)"}));
  CHECK_THAT(errors,
             VectorContains(std::string{
                 "services.api.routes[0].request_headers.set.x-ok: must be a header value: no "
                 "CR, LF, NUL or other control characters"}));
  CHECK_THAT(errors, VectorContains(std::string{
                         "services.api.routes[0].request_headers.set.bad name: is no valid header "
                         "name (an HTTP token)"}));
  CHECK_THAT(errors, VectorContains(std::string{
                         "services.api.routes[0].request_headers.remove[0]: is no valid header "
                         "name (an HTTP token)"}));
  CHECK_THAT(errors, VectorContains(std::string{
                         "services.api.access.allow[1]: is no service name (1-63 letters, digits, "
                         "'-', '.', '_')"}));
  CHECK_THAT(errors, VectorContains(std::string{
                         "services.api.access.deny[0]: is no service name (1-63 letters, digits, "
                         "'-', '.', '_')"}));
}
