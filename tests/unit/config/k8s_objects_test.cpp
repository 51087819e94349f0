#include <catch2/catch.hpp>

#include "config/k8s_objects.h"

using namespace am::config;

namespace {

std::string slice(const std::string& name, const std::string& service, int port,
                  const std::string& ready, const std::string& rv) {
  return R"({"kind":"EndpointSlice","metadata":{"name":")" + name +
         R"(","namespace":"default","resourceVersion":")" + rv +
         R"(","labels":{"kubernetes.io/service-name":")" + service +
         R"("}},"addressType":"IPv4","endpoints":[{"addresses":["10.1.0.5"],"conditions":{"ready":)" +
         ready + R"(},"nodeName":"n1","zone":"z1"},{"addresses":["10.1.0.6"]}],"ports":[{"port":)" +
         std::to_string(port) + "}]}";
}

std::string event(const std::string& type, const std::string& object) {
  return R"({"type":")" + type + R"(","object":)" + object + "}";
}

}  // namespace

TEST_CASE("EndpointSlices become endpoints: ready only, zone and node as labels") {
  k8s_object_set set;
  std::string rv, error;
  auto list = R"({"kind":"EndpointSliceList","metadata":{"resourceVersion":"42"},"items":[)" +
              slice("api-1", "api", 8080, "false", "40") + "]}";
  REQUIRE(set.reset(list, rv, error));
  CHECK(rv == "42");
  std::vector<std::string> errors;
  auto t = endpoint_slices_table(set, errors);
  REQUIRE(t["api"].size() == 1);  // 10.1.0.5 is not ready; 10.1.0.6 says nothing: ready
  CHECK(t["api"][0].address == "10.1.0.6");

  CHECK(set.apply(event("MODIFIED", slice("api-1", "api", 8080, "true", "43")), rv, error) ==
        k8s_object_set::event::changed);
  CHECK(rv == "43");
  t = endpoint_slices_table(set, errors);
  REQUIRE(t["api"].size() == 2);
  CHECK(t["api"][0].labels.at("zone") == "z1");
  CHECK(t["api"][0].labels.at("node") == "n1");
  CHECK(t["api"][0].port == 8080);

  CHECK(set.apply(event("DELETED", slice("api-1", "api", 8080, "true", "44")), rv, error) ==
        k8s_object_set::event::changed);
  CHECK(endpoint_slices_table(set, errors).empty());
  CHECK(errors.empty());
}

TEST_CASE("bookmarks move the resourceVersion; 410 asks for a new list; junk is an error") {
  k8s_object_set set;
  std::string rv = "1", error;
  CHECK(
      set.apply(
          R"({"type":"BOOKMARK","object":{"kind":"EndpointSlice","metadata":{"resourceVersion":"77"}}})",
          rv, error) == k8s_object_set::event::bookmark);
  CHECK(rv == "77");
  CHECK(set.apply(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired"}})",
                  rv, error) == k8s_object_set::event::expired);
  CHECK(set.apply("{oops", rv, error) == k8s_object_set::event::error);
  CHECK(!set.reset(R"({"kind":"Status","code":403})", rv, error));
}

TEST_CASE("MeshConfig resources merge into one document; a service named twice is an error") {
  k8s_object_set set;
  std::string rv, error;
  REQUIRE(set.reset(
      R"({"metadata":{"resourceVersion":"5"},"items":[
        {"metadata":{"name":"a","namespace":"ns"},"spec":{"services":{"api":{"timeout":"2s"}}}},
        {"metadata":{"name":"b","namespace":"ns"},"spec":{"services":{"web":{}}}}]})",
      rv, error));
  std::string source;
  std::vector<config_error> errors;
  auto doc = mesh_config_document(set, source, errors);
  CHECK(errors.empty());
  CHECK(source == "k8s:ns/a,ns/b");
  CHECK(doc.find("api:") != std::string::npos);
  CHECK(doc.find("web:") != std::string::npos);

  set.apply(R"({"type":"ADDED","object":{"metadata":{"name":"c","namespace":"ns"},
              "spec":{"services":{"api":{}}}}})",
            rv, error);
  mesh_config_document(set, source, errors);
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].path == "ns/c.spec.services.api");
  CHECK(errors[0].reason.find("ns/a") != std::string::npos);
}
