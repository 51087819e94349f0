#include "policy/circuit_breaker.h"

namespace am::policy {

const char* to_string(breaker_state s) {
  switch (s) {
    case breaker_state::closed:
      return "closed";
    case breaker_state::open:
      return "open";
    case breaker_state::half_open:
      return "half_open";
  }
  return "?";
}

circuit_breaker::circuit_breaker(breaker_spec spec) : spec_(spec), window_(spec.window_ms, 10) {}

bool circuit_breaker::record(time_ms now, bool failure) {
  switch (state_) {
    case breaker_state::open:
      return false;
    case breaker_state::half_open:
      if (failure) {
        trip(now);
      } else if (++probe_successes_ >= spec_.half_open_probes) {
        close();
      } else {
        return false;
      }
      return true;
    case breaker_state::closed:
      break;
  }
  window_.add(now, 1, failure ? 1 : 0);
  streak_ = failure ? streak_ + 1 : 0;
  bool streak_trips = spec_.consecutive_failures > 0 && streak_ >= spec_.consecutive_failures;
  bool ratio_trips = false;
  if (failure && spec_.failure_ratio > 0) {
    auto total = window_.total(now);
    ratio_trips =
        total >= spec_.min_requests && static_cast<double>(window_.marked(now)) >=
                                           spec_.failure_ratio * static_cast<double>(total);
  }
  if (streak_trips || ratio_trips) {
    trip(now);
    return true;
  }
  return false;
}

bool circuit_breaker::tick(time_ms now) {
  if (state_ == breaker_state::open && now >= open_until_) {
    state_ = breaker_state::half_open;
    probe_successes_ = 0;
    return true;
  }
  return false;
}

void circuit_breaker::trip(time_ms now) {
  state_ = breaker_state::open;
  open_until_ = now + spec_.open_ms;
  streak_ = 0;
  probe_successes_ = 0;
}

void circuit_breaker::close() {
  state_ = breaker_state::closed;
  streak_ = 0;
  window_.clear();  // the failures that tripped it must not trip it again at once
}

}  // namespace am::policy
