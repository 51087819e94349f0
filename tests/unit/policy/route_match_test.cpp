#include <re2/re2.h>
#include <catch2/catch.hpp>

#include <map>

#include "fakes/fake_headers.h"
#include "policy/route_match.h"

using namespace am;
using namespace am::policy;
using am::fakes::fake_headers;
using kind = config::string_match::kind;

namespace {

config::string_match exact(std::string v) {
  return {kind::exact, std::move(v), nullptr};
}

config::string_match regex(const std::string& v) {
  return {kind::regex, v, std::make_shared<re2::RE2>(v)};
}

}  // namespace

TEST_CASE("string matches: exact, prefix, regex (whole value), present") {
  std::string v = "/api/v2/users";
  CHECK(matches(exact("/api/v2/users"), &v));
  CHECK_FALSE(matches(exact("/api"), &v));
  CHECK(matches(config::string_match{kind::prefix, "/api/", nullptr}, &v));
  CHECK(matches(regex("/api/v[0-9]+/.*"), &v));
  CHECK_FALSE(matches(regex("v2"), &v));
  CHECK(matches(config::string_match{kind::present, "", nullptr}, &v));
  CHECK_FALSE(matches(config::string_match{kind::present, "", nullptr}, nullptr));
}

TEST_CASE("the first route whose every condition holds wins") {
  fake_headers h;
  h.fields["x-user-id"] = "alice";
  std::vector<config::route_spec> routes(3);
  routes[0].name = "admins";
  routes[0].path = config::string_match{kind::prefix, "/admin", nullptr};
  routes[1].name = "alice-post";
  routes[1].methods = {"POST"};
  routes[1].headers = {{"x-user-id", exact("alice")}};
  routes[2].name = "beta-query";
  routes[2].query = {{"beta", exact("1")}};

  request_view get{"GET", "/x", "beta=1&y=2", &h};
  CHECK(match_route(routes, get)->name == "beta-query");
  request_view post{"POST", "/x", "", &h};
  CHECK(match_route(routes, post)->name == "alice-post");
  request_view admin{"POST", "/admin/x", "", &h};
  CHECK(match_route(routes, admin)->name == "admins");
  request_view none{"GET", "/x", "beta=2", &h};
  CHECK(match_route(routes, none) == nullptr);
}

TEST_CASE("query parameters and cookies are found by exact name") {
  std::string_view v;
  CHECK(query_param("a=1&bb=2&b=3", "b", v));
  CHECK(v == "3");
  CHECK(query_param("flag&x=1", "flag", v));
  CHECK(v.empty());
  CHECK_FALSE(query_param("a=1", "b", v));
  CHECK(cookie_value("theme=dark; uid=u-42; x=1", "uid", v));
  CHECK(v == "u-42");
  CHECK_FALSE(cookie_value("xuid=1", "uid", v));
}

TEST_CASE("a 90/10 split lands within two points over 5000 random requests") {
  config::route_spec r;
  r.targets = {{{{"version", "v1"}}, 90}, {{{"version", "v2"}}, 10}};
  uint64_t seed = 42;
  int v2 = 0;
  for (int i = 0; i < 5000; ++i) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;  // a seeded LCG
    v2 += choose_target(r, {}, seed >> 17) == 1 ? 1 : 0;
  }
  CHECK(v2 > 400);
  CHECK(v2 < 600);
}

TEST_CASE("a sticky key always picks the same target, whatever the random input") {
  config::route_spec r;
  r.targets = {{{{"version", "v1"}}, 50}, {{{"version", "v2"}}, 50}};
  r.hash_header = "x-user-id";
  fake_headers h;
  h.fields["x-user-id"] = "user-1234";
  request_view req{"GET", "/", "", &h};
  auto key = sticky_key(r, req);
  REQUIRE(key == "user-1234");
  auto first = choose_target(r, key, 0);
  for (uint64_t random = 1; random < 100; ++random) {
    CHECK(choose_target(r, key, random) == first);
  }
  // Different users spread over both targets.
  int on_v2 = 0;
  for (int u = 0; u < 200; ++u) {
    on_v2 += choose_target(r, "user-" + std::to_string(u), 0) == 1 ? 1 : 0;
  }
  CHECK(on_v2 > 60);
  CHECK(on_v2 < 140);
}

TEST_CASE("a hash cookie is used when the header is absent") {
  config::route_spec r;
  r.hash_header = "x-user-id";
  r.hash_cookie = "uid";
  fake_headers h;
  h.fields["cookie"] = "a=b; uid=carol";
  CHECK(sticky_key(r, request_view{"GET", "/", "", &h}) == "carol");
}
