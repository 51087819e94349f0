#include "net/tap_recorder.h"

#include <catch2/catch.hpp>

using namespace am::net;

namespace {

struct collecting_sink final : tap_sink {
  std::vector<tap_batch> batches;
  void deliver(tap_batch&& b) override { batches.push_back(std::move(b)); }
};

tap_set_ptr taps_of(uint64_t generation, std::vector<tap_set::entry> entries) {
  auto set = std::make_shared<tap_set>();
  set->generation = generation;
  set->taps = std::move(entries);
  return set;
}

int64_t ten_seconds() {
  return 10'000;
}

tap_view request(std::string_view service, std::string_view method, std::string_view path,
                 int status) {
  return {service, method, "authority", path, status, -1, 2500, "127.0.0.1:9000", 2, ""};
}

}  // namespace

TEST_CASE("tap filters: service, method, path prefix, an exact status or a class") {
  am::config::tap_filter f{"orders", "", "/api", "GET", 0, 10};
  CHECK(am::config::matches(f, "orders", "GET", "/api/x", 200));
  CHECK_FALSE(am::config::matches(f, "billing", "GET", "/api/x", 200));
  CHECK_FALSE(am::config::matches(f, "orders", "POST", "/api/x", 200));
  CHECK_FALSE(am::config::matches(f, "orders", "GET", "/other", 200));
  f.status = 5;
  CHECK(am::config::matches(f, "orders", "GET", "/api", 503));
  CHECK_FALSE(am::config::matches(f, "orders", "GET", "/api", 404));
  f.status = 404;
  CHECK(am::config::matches(f, "orders", "GET", "/api", 404));
  CHECK_FALSE(am::config::matches(f, "orders", "GET", "/api", 403));
}

TEST_CASE("a recorder without taps is inactive and sends nothing") {
  tap_recorder r;
  CHECK_FALSE(r.active());
  auto sink = std::make_shared<collecting_sink>();
  r.install(nullptr, sink);
  CHECK_FALSE(r.active());
  r.flush();  // the removal's acknowledgement
  REQUIRE(sink->batches.size() == 1);
  CHECK(sink->batches[0].installed);
  r.flush();
  CHECK(sink->batches.size() == 1);
}

TEST_CASE("an install is acknowledged by the next batch, even empty, with its generation") {
  tap_recorder r;
  auto sink = std::make_shared<collecting_sink>();
  r.install(taps_of(7, {{1, {"orders", "", "", "", 0, 10}}}), sink);
  CHECK(r.active());
  r.flush();
  REQUIRE(sink->batches.size() == 1);
  CHECK(sink->batches[0].installed);
  CHECK(sink->batches[0].generation == 7);
  CHECK(sink->batches[0].events.empty());
  r.flush();  // nothing new: nothing sent
  CHECK(sink->batches.size() == 1);
}

TEST_CASE("matching requests become events of every tap that wants them") {
  tap_recorder r;
  auto sink = std::make_shared<collecting_sink>();
  r.install(
      taps_of(1, {{1, {"orders", "", "/a", "", 0, 10}}, {2, {"orders", "", "", "POST", 0, 10}}}),
      sink);
  r.flush();
  r.record(request("orders", "GET", "/a/1", 200), "web", ten_seconds);
  r.record(request("orders", "POST", "/a/2", 503), "web", ten_seconds);
  r.record(request("billing", "POST", "/a/3", 200), "web", ten_seconds);
  r.flush();
  REQUIRE(sink->batches.size() == 2);
  const auto& b = sink->batches[1];
  CHECK_FALSE(b.installed);
  CHECK(b.generation == 1);
  REQUIRE(b.events.size() == 3);  // /a/1 for tap 1; /a/2 for both
  CHECK(b.events[0].tap == 1);
  CHECK(b.events[0].event.path == "/a/1");
  CHECK(b.events[1].tap == 1);
  CHECK(b.events[2].tap == 2);
  const auto& e = b.events[2].event;
  CHECK(e.source == "web");
  CHECK(e.destination == "orders");
  CHECK(e.method == "POST");
  CHECK(e.status == 503);
  CHECK(e.latency_us == 2500);
  CHECK(e.unix_ms == 10'000 - 2);  // when it started
  CHECK(e.endpoint == "127.0.0.1:9000");
  CHECK(e.attempt == 2);
}

TEST_CASE("each tap's rate limit: the rest is counted as dropped, and a new second refills") {
  tap_recorder r;
  auto sink = std::make_shared<collecting_sink>();
  r.install(taps_of(1, {{4, {"orders", "", "", "", 0, 3}}}), sink);
  for (int i = 0; i < 10; ++i) {
    r.record(request("orders", "GET", "/", 200), "web", ten_seconds);
  }
  r.flush();
  REQUIRE(sink->batches.size() == 1);
  CHECK(sink->batches[0].events.size() == 3);
  REQUIRE(sink->batches[0].dropped.size() == 1);
  CHECK(sink->batches[0].dropped[0] == std::pair<uint32_t, uint64_t>{4, 7});
  r.record(request("orders", "GET", "/", 200), "web", ten_seconds);
  r.flush();
  REQUIRE(sink->batches.size() == 2);
  CHECK(sink->batches[1].events.empty());
  CHECK(sink->batches[1].dropped[0].second == 1);
  r.refill();
  r.record(request("orders", "GET", "/", 200), "web", ten_seconds);
  r.flush();
  REQUIRE(sink->batches.size() == 3);
  CHECK(sink->batches[2].events.size() == 1);
  CHECK(sink->batches[2].dropped.empty());
}

TEST_CASE("removing the taps makes the recorder inactive after one last acknowledgement") {
  tap_recorder r;
  auto sink = std::make_shared<collecting_sink>();
  r.install(taps_of(1, {{1, {"orders", "", "", "", 0, 10}}}), sink);
  r.flush();
  r.install(nullptr, sink);
  CHECK_FALSE(r.active());
  r.flush();
  REQUIRE(sink->batches.size() == 2);
  CHECK(sink->batches[1].installed);
  CHECK(sink->batches[1].generation == 0);
}
