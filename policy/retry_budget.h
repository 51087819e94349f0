// A service's retry budget (after Linkerd's and Finagle's): over a sliding window, retries may
// be at most `ratio` of requests, with a floor of `min_per_second` so that a quiet service can
// still retry. Under total failure this caps the load a client adds at (1 + ratio) times the
// request rate instead of multiplying it by the attempt count.
//
// The retry actor owns one and hands workers leases of tokens (DESIGN.md §3: workers never
// ask per request); workers report what they spent and how many requests they saw.
#pragma once

#include <cstdint>

#include "config/policy_model.h"
#include "policy/sliding_window.h"

namespace am::policy {

using config::retry_budget_spec;

class retry_budget {
 public:
  explicit retry_budget(retry_budget_spec spec);

  void record(time_ms now, uint64_t requests, uint64_t retries);

  // Retries the budget still allows in the current window.
  uint64_t available(time_ms now);

  // Tokens for one of `workers` workers: an equal share of what is available, at least one
  // while anything is available so that a quiet worker is not starved.
  uint64_t lease(time_ms now, unsigned workers);

 private:
  retry_budget_spec spec_;
  sliding_window window_;
};

}  // namespace am::policy
