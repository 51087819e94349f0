#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "actors/config_store.h"

using namespace am::actors;

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/actormesh-store-XXXXXX";
  return ::mkdtemp(tmpl);
}

}  // namespace

TEST_CASE("the config store keeps versions across instances, in order, within the limit") {
  auto dir = temp_dir() + "/store";  // created by the first save
  config_store store{dir};
  std::string error;
  std::deque<config_revision> loaded;
  REQUIRE(store.load(loaded, 3, error));
  CHECK(loaded.empty());
  for (uint64_t v = 1; v <= 4; ++v) {
    REQUIRE(store.save(
        {v, "api:carol x", int64_t(v) * 1000, "services: {v" + std::to_string(v) + ": {}}\n"},
        error));
  }
  config_store again{dir};
  REQUIRE(again.load(loaded, 3, error));
  REQUIRE(loaded.size() == 3);  // the oldest went past the limit
  CHECK(loaded.front().version == 2);
  CHECK(loaded.back().version == 4);
  CHECK(loaded.back().source == "api:carol x");
  CHECK(loaded.back().applied_unix_ms == 4000);
  CHECK(loaded.back().document == "services: {v4: {}}\n");
  std::filesystem::remove_all(std::filesystem::path{dir}.parent_path());
}

TEST_CASE("a store whose index names a missing document is an error, not an empty store") {
  auto dir = temp_dir();
  config_store store{dir};
  std::string error;
  REQUIRE(store.save({1, "file:x", 1, "services: {}\n"}, error));
  std::filesystem::remove(dir + "/1.yaml");
  std::deque<config_revision> loaded;
  CHECK(!store.load(loaded, 10, error));
  CHECK(error.find("1.yaml") != std::string::npos);
  std::filesystem::remove_all(dir);
}
