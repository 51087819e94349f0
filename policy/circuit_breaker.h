// A service's failure breaker. It trips on consecutive failures or on an error ratio over a
// sliding window with a minimum volume ("why combine the two": the streak catches a hard
// outage within a few requests, the ratio catches a partial one that never makes a streak).
//
//   closed ──trip──► open ──open_ms passed──► half_open ──probes all succeed──► closed
//                     ▲                           │
//                     └────────any probe fails────┘
//
// The breaker actor owns one per service and feeds it outcome batches from the workers; it
// tells workers the state, and in half-open how many probe requests each may send.
#pragma once

#include <cstdint>

#include "config/policy_model.h"
#include "policy/sliding_window.h"

namespace am::policy {

using config::breaker_spec;

enum class breaker_state { closed, open, half_open };

const char* to_string(breaker_state s);

class circuit_breaker {
 public:
  explicit circuit_breaker(breaker_spec spec);

  breaker_state state() const { return state_; }

  // One outcome, in order. Outcomes that arrive while open (sent before it tripped) are
  // ignored. Returns true when the state changed.
  bool record(time_ms now, bool failure);

  // Moves open to half_open once the open period is over; true when the state changed.
  bool tick(time_ms now);

  // When an open breaker half-opens.
  time_ms open_until() const { return open_until_; }

 private:
  void trip(time_ms now);
  void close();

  breaker_spec spec_;
  breaker_state state_ = breaker_state::closed;
  uint32_t streak_ = 0;
  uint32_t probe_successes_ = 0;
  time_ms open_until_ = 0;
  sliding_window window_;
};

}  // namespace am::policy
