// Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture
// Blog, 2015): the n-th retry waits a uniform random time in [0, min(max, base * 2^n)].
// Full jitter spreads synchronized retries best for the least total wait.
#pragma once

#include <cstdint>

namespace am::policy {

struct backoff_spec {
  int64_t base_ms = 25;
  int64_t max_ms = 250;
};

// `retry_index` counts retries from 0; `unit_random` is uniform in [0, 1).
int64_t backoff_delay_ms(const backoff_spec& spec, unsigned retry_index, double unit_random);

}  // namespace am::policy
