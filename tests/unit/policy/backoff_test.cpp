#include <catch2/catch.hpp>

#include "policy/backoff.h"

using namespace am::policy;

TEST_CASE("backoff ceilings double per retry up to the cap") {
  backoff_spec s{25, 250};
  CHECK(backoff_delay_ms(s, 0, 0.999999) == 24);
  CHECK(backoff_delay_ms(s, 1, 0.999999) == 49);
  CHECK(backoff_delay_ms(s, 2, 0.999999) == 99);
  CHECK(backoff_delay_ms(s, 3, 0.999999) == 199);
  CHECK(backoff_delay_ms(s, 4, 0.999999) == 249);
  CHECK(backoff_delay_ms(s, 400, 0.999999) == 249);  // no overflow on absurd counts
}

TEST_CASE("full jitter spans zero to the ceiling") {
  backoff_spec s{100, 1000};
  CHECK(backoff_delay_ms(s, 2, 0.0) == 0);
  CHECK(backoff_delay_ms(s, 2, 0.5) == 200);
}
