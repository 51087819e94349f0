#include <re2/re2.h>
#include <catch2/catch.hpp>

#include <cstdlib>

#include "config/load.h"

using namespace am::config;

namespace {

parsed<node> parse_service(const std::string& body) {
  return parse_node("roles: [sidecar, discovery, commander]\nservices:\n  api:\n" + body);
}

std::vector<std::string> error_texts(const parsed<node>& r) {
  std::vector<std::string> out;
  for (const auto& e : r.errors) {
    out.push_back(e.to_string());
  }
  return out;
}

}  // namespace

TEST_CASE("a full policy set parses") {
  auto r = parse_service(R"(    connect_timeout: 250ms
    retry:
      attempts: 3
      per_try_timeout: 200ms
      backoff: {base: 10ms, max: 100ms}
      on: [reset, gateway_error]
      statuses: [429]
      headers: [{name: x-retry-hint, regex: "^(busy|later)$"}]
    retry_budget: {percent: 25, min_per_second: 5}
    breaker: {consecutive_failures: 4, failure_percent: 50, min_requests: 10, open: 2s, half_open_probes: 2}
    limits: {max_requests: 100, max_pending: 10}
    outlier:
      consecutive_5xx: 3
      base_ejection: 1s
      max_ejection_percent: 40
      failure_percentage: {threshold: 80}
    routes:
      - name: alice-to-v2
        match: {headers: [{name: x-user-id, exact: alice}]}
        targets: [{subset: {version: v2}}]
      - name: canary
        match: {path: {prefix: /api}, methods: [GET, HEAD], query: [{name: beta, present: true}]}
        targets: [{subset: {version: v1}, weight: 90}, {subset: {version: v2}, weight: 10}]
        hash: {header: x-user-id}
        request_headers: {set: {x-route: canary}, remove: [x-debug]}
        response_headers: {set: {x-served: mesh}}
        fault: {delay: {percent: 10, duration: 50ms}, abort: {percent: 1, status: 500}}
        mirror: {subset: {version: shadow}, percent: 5}
        timeout: 1s
    access: {allow: [frontend], deny: [batch]}
)");
  INFO(r.describe("node.yaml"));
  REQUIRE(r.ok());
  const auto& s = r.value->services.at("api");
  CHECK(s.connect_timeout == millis{250});
  CHECK(s.retry.attempts == 3);
  CHECK(s.retry.per_try_timeout_ms == 200);
  CHECK(s.retry.on_reset);
  CHECK(s.retry.on_gateway_error);
  CHECK_FALSE(s.retry.on_connect_failure);  // a given list replaces the default
  CHECK(s.retry.statuses == std::vector<int>{429});
  REQUIRE(s.retry.header_rules.size() == 1);
  CHECK(RE2::FullMatch("later", *s.retry.header_rules[0].pattern));
  CHECK(s.retry_budget.ratio == Approx(0.25));
  REQUIRE(s.breaker);
  CHECK(s.breaker->failure_ratio == Approx(0.5));
  CHECK(s.breaker->open_ms == 2000);
  CHECK(s.limits.max_requests == 100);
  REQUIRE(s.outlier);
  CHECK(s.outlier->failure_percentage_threshold == 80);
  REQUIRE(s.routes.size() == 2);
  const auto& canary = s.routes[1];
  CHECK(canary.targets.size() == 2);
  CHECK(canary.targets[1].subset.at("version") == "v2");
  CHECK(canary.targets[1].weight == 10);
  CHECK(canary.methods == std::vector<std::string>{"GET", "HEAD"});
  CHECK(canary.query.at(0).match.how == string_match::kind::present);
  CHECK(canary.hash_header == "x-user-id");
  CHECK(canary.request_headers.remove == std::vector<std::string>{"x-debug"});
  CHECK(canary.fault.delay_ms == 50);
  CHECK(canary.fault.abort_status == 500);
  CHECK(canary.mirror.percent == Approx(5));
  CHECK(canary.timeout_ms == 1000);
  CHECK(s.access.allow == std::vector<std::string>{"frontend"});
}

TEST_CASE("policy errors name their field path and reject the whole file") {
  auto r = parse_service(R"(    retry:
      attempts: 0
      on: [sometimes]
      headers: [{name: x-hint, regex: "(unclosed"}]
    breaker: {consecutive_failures: 0, open: 1s}
    routes:
      - match: {path: {exact: /a, prefix: /b}}
        targets: [{subset: {version: v1}, weight: 0}]
        fault: {abort: {percent: 150}}
)");
  REQUIRE_FALSE(r.ok());
  auto errors = error_texts(r);
  CHECK_THAT(errors, Catch::Matchers::VectorContains(
                         std::string{"services.api.retry.attempts: must be 1..10, got '0'"}));
  CHECK_THAT(errors,
             Catch::Matchers::VectorContains(std::string{
                 "services.api.retry.on[0]: unknown condition 'sometimes' "
                 "(connect_failure, reset, timeout, 5xx, gateway_error, or a gRPC status such as "
                 "unavailable, resource_exhausted)"}));
  CHECK_THAT(errors, Catch::Matchers::VectorContains(
                         std::string{"services.api.retry.headers[0].regex: bad regular expression: "
                                     "missing ): (unclosed"}));
  CHECK_THAT(errors, Catch::Matchers::VectorContains(std::string{
                         "services.api.breaker: needs consecutive_failures or failure_percent"}));
  CHECK_THAT(errors,
             Catch::Matchers::VectorContains(std::string{
                 "services.api.routes[0].match.path: needs exactly one of exact, prefix, regex, "
                 "present"}));
  CHECK_THAT(errors, Catch::Matchers::VectorContains(
                         std::string{"services.api.routes[0].targets: weights must not all be 0"}));
  CHECK_THAT(errors, Catch::Matchers::VectorContains(std::string{
                         "services.api.routes[0].fault.abort.percent: must be a number 0..100"}));
}

TEST_CASE("a service's protocol and gRPC retry conditions parse; unknown ones are refused") {
  auto r = parse_service(R"(    protocol: grpc
    retry: {attempts: 3, on: [unavailable, resource-exhausted, reset]}
)");
  REQUIRE(r.ok());
  const auto& svc = r.value->services.at("api");
  CHECK(svc.protocol == app_protocol::grpc);
  CHECK(svc.retry.grpc_statuses == std::vector<int>{14, 8});
  CHECK(svc.retry.on_reset);
  auto bad = parse_service(R"(    protocol: spdy
    retry: {on: [ok]}
)");
  REQUIRE_FALSE(bad.ok());
  auto errors = error_texts(bad);
  CHECK_THAT(errors, Catch::Matchers::VectorContains(
                         std::string{"services.api.protocol: must be auto, http1, http2 or grpc"}));
  CHECK(errors.size() == 2);  // `ok` is no failure to retry on
}

TEST_CASE("listeners declare their protocol or detect it") {
  auto r = parse_node(R"(roles: [sidecar, discovery, commander]
sidecar:
  outbound: {port: 15001}
  inbound: {port: 15006, app_port: 8080, protocol: http2}
)");
  REQUIRE(r.ok());
  CHECK(r.value->sidecar.outbound.protocol == listener_protocol::automatic);
  CHECK(r.value->sidecar.inbound.protocol == listener_protocol::http2);
  auto bad = parse_node(
      "roles: [sidecar, discovery, commander]\nsidecar:\n  outbound: {port: 1, protocol: h3}\n");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(error_texts(bad), Catch::Matchers::VectorContains(std::string{
                                   "sidecar.outbound.protocol: must be auto, http1 or http2"}));
}

TEST_CASE("a service selects its load balancer; an unknown one is refused with its path") {
  CHECK(parse_service("    lb: least_request\n").value->services.at("api").lb ==
        lb_policy::least_request);
  CHECK(parse_service("    lb: random\n").value->services.at("api").lb == lb_policy::random);
  CHECK(parse_service("    lb: global\n").value->services.at("api").lb == lb_policy::global);
  auto hashed = parse_service("    lb: {consistent_hash: {header: X-User}}\n");
  REQUIRE(hashed.ok());
  const auto& svc = hashed.value->services.at("api");
  CHECK(svc.lb == lb_policy::consistent_hash);
  CHECK(svc.hash_key.from == hash_key_spec::source::header);
  CHECK(svc.hash_key.name == "x-user");
  CHECK(parse_service("    lb: {consistent_hash: {cookie: sid}}\n")
            .value->services.at("api")
            .hash_key.from == hash_key_spec::source::cookie);
  CHECK(parse_service("    lb: {consistent_hash: {source_ip: true}}\n").ok());

  CHECK(error_texts(parse_service("    lb: fastest\n")) ==
        std::vector<std::string>{"services.api.lb: must be round_robin, least_request, random, "
                                 "global or {consistent_hash: {header|cookie|source_ip}}"});
  CHECK(error_texts(parse_service("    lb: {consistent_hash: {header: a, cookie: b}}\n")) ==
        std::vector<std::string>{"services.api.lb.consistent_hash: must name one key source: "
                                 "header, cookie or source_ip"});
  CHECK(error_texts(parse_service("    lb: {consistent_hash: {source_ip: false}}\n")) ==
        std::vector<std::string>{"services.api.lb.consistent_hash.source_ip: must be true"});
}

TEST_CASE("a service's locality preference parses; bad levels and rules name their path") {
  auto r = parse_service(R"(    locality:
      prefer: [node, zone]
      failover: [{from: zone-a, to: [zone-b, zone-c]}]
      overprovisioning: 2
)");
  REQUIRE(r.ok());
  const auto& l = r.value->services.at("api").locality;
  CHECK(l.prefer == std::vector<locality_level>{locality_level::node, locality_level::zone});
  REQUIRE(l.failover.size() == 1);
  CHECK(l.failover[0].to == std::vector<std::string>{"zone-b", "zone-c"});
  CHECK(l.overprovisioning == 2);
  auto bad = parse_service(R"(    locality:
      prefer: [rack]
      failover: [{from: zone-a}]
      overprovisioning: 0.5
)");
  CHECK(error_texts(bad) ==
        std::vector<std::string>{
            "services.api.locality.prefer[0]: must be node, zone or region",
            "services.api.locality.failover[0]: needs from (a zone) and to (a list of zones)",
            "services.api.locality.overprovisioning: must be a number 1..10"});
}

TEST_CASE("a sidecar's locality comes from its config, then from the environment") {
  setenv("ACTORMESH_ZONE", "env-zone", 1);
  setenv("ACTORMESH_NODE", "env-node", 1);
  auto r = parse_node(
      "roles: [sidecar, discovery, commander]\nsidecar:\n  locality: {region: r1, zone: z1}\n");
  unsetenv("ACTORMESH_ZONE");
  unsetenv("ACTORMESH_NODE");
  REQUIRE(r.ok());
  const auto& l = r.value->sidecar.locality;
  CHECK(l.region == "r1");
  CHECK(l.zone == "z1");
  CHECK(l.node == "env-node");
  CHECK(l.cluster.empty());
}
