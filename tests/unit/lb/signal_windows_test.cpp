// The golden signals' windows with time passed in: sums, rates, success rates and
// percentiles for known reports, several sidecars of one pair merged, each window forgetting
// what is older than it, rows per destination, and pairs forgotten after 10 min of silence.
#include "lb/signal_windows.h"

#include <catch2/catch.hpp>

using am::config::pair_signals;
using am::config::signals_report;
using am::lb::signal_query;
using am::lb::signal_window;
using am::lb::signal_windows;

namespace {

const std::vector<uint64_t> bounds = {1000, 10000, 100000};  // 1, 10, 100 ms, then +Inf

// ok 2xx and failed 5xx calls from `source` to `destination`, all in latency bucket `bucket`.
signals_report report(const std::string& sidecar, const std::string& source,
                      const std::string& destination, uint64_t ok, uint64_t failed,
                      size_t bucket = 1) {
  pair_signals p{source, destination, {ok, 0, 0, failed}, {0, 0, 0, 0}};
  p.latency[bucket] = ok + failed;
  return {sidecar, {p}, {}};
}

signal_query window(signal_window w, std::string from = "", std::string to = "") {
  return {w, std::move(from), std::move(to), true};
}

}  // namespace

TEST_CASE("a pair's reports add up over the window with its rate and success rate") {
  signal_windows s{bounds};
  int64_t t = 100'000;  // a whole second
  for (int i = 0; i < 20; ++i) {
    s.add(report("web-1", "web", "api", 9, 1), t + i * 1000);
  }
  auto now = t + 19'500;
  auto rows = s.query(window(signal_window::one_minute), now);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].source == "web");
  CHECK(rows[0].destination == "api");
  CHECK(rows[0].requests == 200);
  CHECK(rows[0].failures == 20);
  CHECK(rows[0].success_rate() == Approx(0.9));
  // 200 calls since the first report's interval began (t - 1 s), 20.5 s ago.
  CHECK(rows[0].requests_per_second == Approx(200 / 20.5));
  CHECK(rows[0].sidecars == 1);
  // The 10 s window: the slots of the last 10 seconds (9.5 s of them): 10 reports.
  auto recent = s.query(window(signal_window::ten_seconds), now);
  REQUIRE(recent.size() == 1);
  CHECK(recent[0].requests == 100);
  CHECK(recent[0].requests_per_second == Approx(100 / 9.5));
}

TEST_CASE("percentiles come from the merged buckets, interpolated inside one") {
  // 50 calls in (1, 10] ms, 50 in (10, 100] ms.
  CHECK(signal_windows::percentile({0, 50, 50, 0}, bounds, 0.5) == 10000);
  CHECK(signal_windows::percentile({0, 50, 50, 0}, bounds, 0.25) == 5500);
  CHECK(signal_windows::percentile({0, 50, 50, 0}, bounds, 0.99) == 98200);
  CHECK(signal_windows::percentile({0, 0, 0, 7}, bounds, 0.5) == 100000);  // +Inf: its floor
  CHECK(signal_windows::percentile({0, 0, 0, 0}, bounds, 0.5) == 0);
  signal_windows s{bounds};
  s.add(report("web-1", "web", "api", 50, 0, 1), 10'000);
  s.add(report("web-2", "web", "api", 50, 0, 2), 10'000);
  auto rows = s.query(window(signal_window::ten_seconds), 10'500);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].p50_us == 10000);
  CHECK(rows[0].p99_us == 98200);
  CHECK(rows[0].sidecars == 2);  // two sidecars of web reported the pair
}

TEST_CASE("each window forgets what is older than it") {
  signal_windows s{bounds};
  s.add(report("web-1", "web", "api", 10, 0), 60'000);
  s.add(report("web-1", "web", "api", 5, 0), 75'000);
  auto at = [&](signal_window w, int64_t now) {
    auto rows = s.query(window(w), now);
    return rows.empty() ? uint64_t{0} : rows[0].requests;
  };
  CHECK(at(signal_window::ten_seconds, 75'000) == 5);
  CHECK(at(signal_window::ten_seconds, 85'000) == 0);  // 10 s after the last report
  CHECK(at(signal_window::one_minute, 75'000) == 15);
  CHECK(at(signal_window::one_minute, 119'999) == 15);  // 60 s is within the minute
  CHECK(at(signal_window::one_minute, 120'000) == 5);   // the 60-70 s slot has left
  CHECK(at(signal_window::ten_minutes, 119'999) == 15);
  CHECK(at(signal_window::ten_minutes, 660'000) == 0);
}

TEST_CASE("rows filter by source and destination, or sum a destination's sources") {
  signal_windows s{bounds};
  s.add(report("web-1", "web", "api", 30, 10), 5'000);
  s.add(report("batch-1", "batch", "api", 20, 0), 5'000);
  s.add(report("web-1", "web", "users", 7, 0), 5'000);
  CHECK(s.query(window(signal_window::ten_seconds), 5'000).size() == 3);
  auto to_api = s.query(window(signal_window::ten_seconds, "", "api"), 5'000);
  REQUIRE(to_api.size() == 2);
  CHECK(to_api[0].source == "batch");
  CHECK(to_api[1].source == "web");
  auto from_web = s.query(window(signal_window::ten_seconds, "web"), 5'000);
  REQUIRE(from_web.size() == 2);
  CHECK(from_web[1].destination == "users");
  signal_query per_service{signal_window::ten_seconds, "", "", false};
  auto services = s.query(per_service, 5'000);
  REQUIRE(services.size() == 2);
  CHECK(services[0].destination == "api");
  CHECK(services[0].source.empty());
  CHECK(services[0].requests == 60);
  CHECK(services[0].failures == 10);
  CHECK(services[0].sidecars == 2);
  CHECK(services[0].requests_per_second == Approx(60.0));  // both pairs 1 s old
}

TEST_CASE("a pair silent for longer than the longest window is forgotten") {
  signal_windows s{bounds};
  s.add(report("web-1", "web", "api", 1, 0), 1'000);
  s.add(report("web-1", "web", "users", 1, 0), 500'000);
  s.expire(550'000);
  CHECK(s.pairs() == 2);
  s.expire(601'000);
  CHECK(s.pairs() == 1);
  CHECK(s.query(window(signal_window::ten_minutes), 601'000)[0].destination == "users");
}

TEST_CASE("window names") {
  signal_window w{};
  CHECK(am::lb::parse_signal_window("10s", w));
  CHECK(w == signal_window::ten_seconds);
  CHECK(am::lb::parse_signal_window("10m", w));
  CHECK(std::string{am::lb::to_string(w)} == "10m");
  CHECK_FALSE(am::lb::parse_signal_window("5m", w));
}
