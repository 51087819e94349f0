#include <catch2/catch.hpp>

#include "policy/outlier_detector.h"

using namespace am::policy;

namespace {

outlier_spec five_xx(uint32_t streak) {
  outlier_spec s;
  s.consecutive_5xx = streak;
  s.base_ejection_ms = 1000;
  s.max_ejection_ms = 3000;
  s.max_ejection_percent = 50;
  return s;
}

void fail(outlier_detector& d, time_ms now, endpoint_id e, int times, int status = 500) {
  for (int i = 0; i < times; ++i) {
    d.record(now, e, status);
  }
}

}  // namespace

TEST_CASE("consecutive 5xx eject an endpoint until its time is up") {
  outlier_detector d{five_xx(3), 4};
  d.record(0, 1, 500);
  d.record(0, 1, 500);
  d.record(0, 1, 200);
  fail(d, 0, 1, 2);
  CHECK_FALSE(d.ejected(1));
  CHECK(d.record(0, 1, 500));
  CHECK(d.ejected(1));
  CHECK(d.ejected_until(1) == 1000);
  CHECK_FALSE(d.tick(999));
  CHECK(d.tick(1000));
  CHECK(d.health(1) == endpoint_health::probation);
}

TEST_CASE("a probation failure ejects again for twice as long, capped") {
  outlier_detector d{five_xx(1), 4};
  d.record(0, 0, 503);
  CHECK(d.ejected_until(0) == 1000);
  d.tick(1000);
  CHECK(d.record(1000, 0, 500));
  CHECK(d.ejected_until(0) == 3000);
  d.tick(3000);
  d.record(3000, 0, 500);
  CHECK(d.ejected_until(0) == 6000);  // 4000 capped at 3000
}

TEST_CASE("a probation success returns the endpoint to health") {
  outlier_detector d{five_xx(1), 4};
  d.record(0, 2, 500);
  d.tick(1000);
  CHECK(d.record(1000, 2, 200));  // a change: workers stop holding it out for its probe
  CHECK(d.health(2) == endpoint_health::healthy);
  CHECK_FALSE(d.record(1000, 2, 200));
}

TEST_CASE("the ejection cap keeps the share and always one endpoint in rotation") {
  outlier_detector d{five_xx(1), 4};
  for (size_t e = 0; e < 4; ++e) {
    d.record(0, e, 500);
  }
  CHECK(d.ejected_count() == 2);  // 50% of 4

  auto s = five_xx(1);
  s.max_ejection_percent = 100;
  outlier_detector all{s, 3};
  for (size_t e = 0; e < 3; ++e) {
    all.record(0, e, 500);
  }
  CHECK(all.ejected_count() == 2);  // never the last one
}

TEST_CASE("gateway errors and connection failures have their own streak") {
  outlier_spec s = five_xx(0);
  s.consecutive_gateway_errors = 2;
  outlier_detector d{s, 4};
  d.record(0, 3, 500);
  d.record(0, 3, 500);
  CHECK_FALSE(d.ejected(3));
  d.record(0, 3, 0);
  CHECK(d.record(0, 3, 504));
  CHECK(d.ejected(3));
}

TEST_CASE("the failure-percentage detector runs once per interval") {
  outlier_spec s = five_xx(0);
  s.failure_percentage_threshold = 50;
  s.failure_percentage_min_hosts = 3;
  s.failure_percentage_request_volume = 10;
  s.interval_ms = 100;
  outlier_detector d{s, 4};
  d.tick(0);
  for (size_t e = 0; e < 4; ++e) {
    for (int i = 0; i < 10; ++i) {
      d.record(10, e, e == 2 && i < 6 ? 500 : 200);
    }
  }
  CHECK_FALSE(d.tick(50));
  CHECK(d.tick(100));
  CHECK(d.ejected(2));
  CHECK(d.ejected_count() == 1);
}

TEST_CASE("the success-rate detector ejects hosts far below the mean") {
  outlier_spec s = five_xx(0);
  s.success_rate_stdev_factor = 1.0;
  s.success_rate_min_hosts = 4;
  s.success_rate_request_volume = 20;
  s.interval_ms = 100;
  outlier_detector d{s, 5};
  d.tick(0);
  for (size_t e = 0; e < 5; ++e) {
    for (int i = 0; i < 20; ++i) {
      d.record(10, e, e == 4 && i < 10 ? 503 : 200);
    }
  }
  CHECK(d.tick(100));
  CHECK(d.ejected(4));
  CHECK(d.ejected_count() == 1);
}

TEST_CASE("endpoints that stay keep their ejection when the endpoint set changes") {
  outlier_detector d{five_xx(1), 4};
  fail(d, 0, 2, 1);
  REQUIRE(d.ejected(2));
  // Endpoint 0 leaves, 7 arrives: 2 is still ejected, for as long as before.
  auto until = d.ejected_until(2);
  CHECK_FALSE(d.set_endpoints({1, 2, 3, 7}));
  CHECK(d.ejected(2));
  CHECK(d.ejected_until(2) == until);
  CHECK(d.health(7) == endpoint_health::healthy);
  // An outcome of an endpoint that left is ignored.
  CHECK_FALSE(d.record(0, 0, 500));
  // The ejected endpoint leaves: the set of ejected endpoints changed.
  CHECK(d.set_endpoints({1, 3, 7}));
  CHECK(d.ejected_count() == 0);
}

TEST_CASE("new detection settings keep every endpoint's state") {
  outlier_detector d{five_xx(1), 4};
  fail(d, 0, 1, 1);
  d.set_spec(five_xx(3));
  CHECK(d.ejected(1));
  fail(d, 0, 3, 2);
  CHECK_FALSE(d.ejected(3));
  CHECK(d.in_state(endpoint_health::ejected) == std::vector<am::policy::endpoint_id>{1});
}
