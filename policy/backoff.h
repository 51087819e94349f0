// Exponential backoff with full jitter ("Exponential Backoff And Jitter", AWS Architecture
// Blog, 2015): the n-th retry waits a uniform random time in [0, min(max, base * 2^n)].
// Full jitter spreads synchronized retries best for the least total wait.
#pragma once

#include <cstdint>

#include "config/policy_model.h"

namespace am::policy {

using config::backoff_spec;

// `retry_index` counts retries from 0; `unit_random` is uniform in [0, 1).
int64_t backoff_delay_ms(const backoff_spec& spec, unsigned retry_index, double unit_random);

}  // namespace am::policy
