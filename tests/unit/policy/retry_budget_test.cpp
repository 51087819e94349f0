#include <catch2/catch.hpp>

#include "policy/retry_budget.h"

using namespace am::policy;

TEST_CASE("a quiet service still gets the per-second floor") {
  retry_budget b{{0.2, 10, 10'000}};
  CHECK(b.available(0) == 100);
}

TEST_CASE("under load retries are capped at the ratio of requests") {
  retry_budget b{{0.2, 1, 10'000}};
  b.record(1000, 5000, 0);
  CHECK(b.available(1000) == 1000);
  b.record(2000, 0, 900);
  CHECK(b.available(2000) == 100);
  b.record(3000, 0, 200);
  CHECK(b.available(3000) == 0);
}

TEST_CASE("spent retries age out with the window") {
  retry_budget b{{0.1, 1, 10'000}};
  b.record(0, 0, 10);
  CHECK(b.available(500) == 0);
  CHECK(b.available(10'500) == 10);
}

TEST_CASE("leases split what is available across workers, at least one each") {
  retry_budget b{{0.2, 1, 10'000}};
  b.record(0, 1000, 0);
  CHECK(b.lease(0, 4) == 50);
  b.record(0, 0, 199);
  CHECK(b.lease(0, 4) == 1);
  b.record(0, 0, 1);
  CHECK(b.lease(0, 4) == 0);
}
