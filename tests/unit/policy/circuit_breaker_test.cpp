#include <catch2/catch.hpp>

#include "policy/circuit_breaker.h"

using namespace am::policy;

namespace {

breaker_spec streak_spec() {
  breaker_spec s;
  s.consecutive_failures = 3;
  s.open_ms = 1000;
  s.half_open_probes = 2;
  return s;
}

}  // namespace

TEST_CASE("consecutive failures open the breaker, a success resets the streak") {
  circuit_breaker b{streak_spec()};
  CHECK_FALSE(b.record(0, true));
  CHECK_FALSE(b.record(1, true));
  CHECK_FALSE(b.record(2, false));
  CHECK_FALSE(b.record(3, true));
  CHECK_FALSE(b.record(4, true));
  CHECK(b.record(5, true));
  CHECK(b.state() == breaker_state::open);
  CHECK(b.open_until() == 1005);
}

TEST_CASE("open ignores stragglers and half-opens when the period is over") {
  circuit_breaker b{streak_spec()};
  for (int i = 0; i < 3; ++i) {
    b.record(0, true);
  }
  CHECK_FALSE(b.record(10, false));
  CHECK_FALSE(b.tick(999));
  CHECK(b.state() == breaker_state::open);
  CHECK(b.tick(1000));
  CHECK(b.state() == breaker_state::half_open);
}

TEST_CASE("half-open closes after every probe succeeds") {
  circuit_breaker b{streak_spec()};
  for (int i = 0; i < 3; ++i) {
    b.record(0, true);
  }
  b.tick(1000);
  CHECK_FALSE(b.record(1001, false));
  CHECK(b.state() == breaker_state::half_open);
  CHECK(b.record(1002, false));
  CHECK(b.state() == breaker_state::closed);
  // The failures that tripped it are forgotten: two more do not trip it again.
  b.record(1003, true);
  b.record(1004, true);
  CHECK(b.state() == breaker_state::closed);
}

TEST_CASE("a failed probe re-opens for another period") {
  circuit_breaker b{streak_spec()};
  for (int i = 0; i < 3; ++i) {
    b.record(0, true);
  }
  b.tick(1000);
  b.record(1001, false);
  CHECK(b.record(1002, true));
  CHECK(b.state() == breaker_state::open);
  CHECK(b.open_until() == 2002);
}

TEST_CASE("the error ratio trips only with enough volume") {
  breaker_spec s;
  s.consecutive_failures = 0;
  s.failure_ratio = 0.5;
  s.min_requests = 10;
  s.window_ms = 10'000;
  circuit_breaker b{s};
  // Alternating failures never make a streak; 5 of 9 is over the ratio but under the volume.
  for (int i = 0; i < 9; ++i) {
    b.record(i, i % 2 == 0);
  }
  CHECK(b.state() == breaker_state::closed);
  CHECK(b.record(9, true));  // 6 of 10
  CHECK(b.state() == breaker_state::open);
}

TEST_CASE("old failures leave the ratio window") {
  breaker_spec s;
  s.consecutive_failures = 0;
  s.failure_ratio = 0.5;
  s.min_requests = 4;
  s.window_ms = 1000;
  circuit_breaker b{s};
  b.record(0, true);
  b.record(0, true);
  b.record(0, true);
  b.record(5000, false);
  b.record(5000, false);
  b.record(5000, false);
  CHECK_FALSE(b.record(5000, true));  // 1 of 4 in the window
  CHECK(b.state() == breaker_state::closed);
}
