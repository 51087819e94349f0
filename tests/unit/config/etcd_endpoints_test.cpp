#include <catch2/catch.hpp>

#include "config/etcd_endpoints.h"

using namespace am::config;

namespace {

etcd_change put(std::string key, std::string value) {
  return {false, std::move(key), value};
}
etcd_change del(std::string key) {
  return {true, std::move(key), {}};
}

const std::string a = R"({"address": "10.0.0.1", "port": 8080, "labels": {"version": "v2"}})";
const std::string b = R"({"address": "10.0.0.2", "port": 8080, "weight": 3})";

}  // namespace

TEST_CASE("an etcd listing becomes endpoints per service, keyed by <prefix><service>/<id>") {
  etcd_endpoint_view view{"/am/"};
  std::vector<std::string> errors;
  view.reset({put("/am/api/1", a), put("/am/api/2", b), put("/am/web/1", a)}, errors);
  CHECK(errors.empty());
  auto t = view.table();
  REQUIRE(t["api"].size() == 2);
  CHECK(t["api"][0].labels.at("version") == "v2");
  CHECK(t["api"][1].weight == 3);
  CHECK(t["web"].size() == 1);
}

TEST_CASE("watch events put and delete; a bad value keeps the key's last endpoint") {
  etcd_endpoint_view view{"/am/"};
  std::vector<std::string> errors;
  view.reset({put("/am/api/1", a)}, errors);
  view.apply({put("/am/api/2", b), put("/am/api/1", "{not json"), put("/am/nokey", a)}, errors);
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].find("/am/api/1") == 0);
  CHECK(errors[1].find("<service>/<endpoint-id>") != std::string::npos);
  CHECK(view.table()["api"].size() == 2);
  view.apply({del("/am/api/1"), del("/am/api/2")}, errors);
  CHECK(view.table().count("api") == 0);  // a service whose keys are all gone is empty
}

TEST_CASE("a listing replaces the whole view, so a re-list after a restart loses nothing") {
  etcd_endpoint_view view{"/am/"};
  std::vector<std::string> errors;
  view.reset({put("/am/api/1", a), put("/am/api/2", b)}, errors);
  view.reset({put("/am/api/2", b)}, errors);  // 1 was deleted while the watch was down
  auto t = view.table();
  REQUIRE(t["api"].size() == 1);
  CHECK(t["api"][0].address == "10.0.0.2");
}

TEST_CASE("the range end of a prefix covers exactly the keys with that prefix") {
  CHECK(etcd_prefix_end("/am/") == "/am0");
  CHECK(etcd_prefix_end(std::string{"a\xff", 2}) == "b");
  CHECK(etcd_prefix_end("") == std::string(1, '\0'));
}
