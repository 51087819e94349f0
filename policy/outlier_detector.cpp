#include "policy/outlier_detector.h"

#include <algorithm>
#include <cmath>

namespace am::policy {

namespace {

bool is_gateway_error(int status) {
  return status == 0 || status == 502 || status == 503 || status == 504;
}

bool is_failure(int status) {
  return status == 0 || status >= 500;
}

}  // namespace

outlier_detector::outlier_detector(outlier_spec spec, size_t endpoints) : spec_(spec) {
  for (size_t i = 0; i < endpoints; ++i) {
    hosts_.emplace(static_cast<endpoint_id>(i), host{});
  }
}

bool outlier_detector::set_endpoints(const std::vector<endpoint_id>& ids) {
  std::map<endpoint_id, host> next;
  for (auto id : ids) {
    auto i = hosts_.find(id);
    next.emplace(id, i != hosts_.end() ? i->second : host{});
  }
  auto before = ejected_count();
  hosts_ = std::move(next);
  return ejected_count() != before;
}

endpoint_health outlier_detector::health(endpoint_id endpoint) const {
  auto i = hosts_.find(endpoint);
  return i == hosts_.end() ? endpoint_health::healthy : i->second.health;
}

time_ms outlier_detector::ejected_until(endpoint_id endpoint) const {
  auto i = hosts_.find(endpoint);
  return i == hosts_.end() || i->second.health != endpoint_health::ejected ? 0 : i->second.until;
}

size_t outlier_detector::ejected_count() const {
  return static_cast<size_t>(std::count_if(hosts_.begin(), hosts_.end(), [](const auto& kv) {
    return kv.second.health == endpoint_health::ejected;
  }));
}

std::vector<endpoint_id> outlier_detector::in_state(endpoint_health state) const {
  std::vector<endpoint_id> out;
  for (const auto& [id, h] : hosts_) {
    if (h.health == state) {
      out.push_back(id);
    }
  }
  return out;
}

bool outlier_detector::try_eject(time_ms now, host& h) {
  auto ejected = ejected_count();
  auto cap = hosts_.size() * spec_.max_ejection_percent / 100;
  if (ejected + 1 > cap || ejected + 1 >= hosts_.size()) {
    return false;  // the ejection cap: see the header
  }
  ++h.ejections;
  auto shift = std::min<uint32_t>(h.ejections - 1, 20);
  h.until = now + std::min(spec_.max_ejection_ms, spec_.base_ejection_ms << shift);
  h.health = endpoint_health::ejected;
  h.streak_5xx = h.streak_gateway = 0;
  return true;
}

bool outlier_detector::record(time_ms now, endpoint_id endpoint, int status) {
  auto found = hosts_.find(endpoint);
  if (found == hosts_.end()) {
    return false;
  }
  auto& h = found->second;
  if (h.health == endpoint_health::ejected) {
    return false;  // an outcome of a request sent before the ejection
  }
  ++h.interval_requests;
  bool failure = is_failure(status);
  h.interval_failures += failure ? 1 : 0;
  if (h.health == endpoint_health::probation) {
    // Probation ends either way: a change workers must hear of (they hold the endpoint out
    // while its probe is away).
    h.health = endpoint_health::healthy;  // try_eject counts it as in rotation
    if (failure) {
      try_eject(now, h);
    }
    return true;
  }
  h.streak_5xx = status >= 500 ? h.streak_5xx + 1 : 0;
  h.streak_gateway = is_gateway_error(status) ? h.streak_gateway + 1 : 0;
  bool trip = (spec_.consecutive_5xx > 0 && h.streak_5xx >= spec_.consecutive_5xx) ||
              (spec_.consecutive_gateway_errors > 0 &&
               h.streak_gateway >= spec_.consecutive_gateway_errors);
  return trip && try_eject(now, h);
}

bool outlier_detector::tick(time_ms now) {
  bool changed = false;
  for (auto& [id, h] : hosts_) {
    if (h.health == endpoint_health::ejected && now >= h.until) {
      h.health = endpoint_health::probation;
      changed = true;
    }
  }
  if (next_interval_ < 0) {
    next_interval_ = now + spec_.interval_ms;
  } else if (now >= next_interval_) {
    next_interval_ = now + spec_.interval_ms;
    changed = run_interval_detectors(now) || changed;
  }
  return changed;
}

bool outlier_detector::run_interval_detectors(time_ms now) {
  struct rate {
    host* endpoint;
    double success;
  };
  std::vector<rate> sr_hosts;
  std::vector<rate> fp_hosts;
  for (auto& [id, h] : hosts_) {
    if (h.health == endpoint_health::healthy && h.ejections > 0) {
      --h.ejections;  // a healthy interval: the next ejection is shorter again
    }
    if (h.health != endpoint_health::ejected && h.interval_requests > 0) {
      double success =
          1.0 - static_cast<double>(h.interval_failures) / static_cast<double>(h.interval_requests);
      if (h.interval_requests >= spec_.success_rate_request_volume) {
        sr_hosts.push_back({&h, success});
      }
      if (h.interval_requests >= spec_.failure_percentage_request_volume) {
        fp_hosts.push_back({&h, success});
      }
    }
    h.interval_requests = h.interval_failures = 0;
  }
  bool changed = false;
  if (spec_.success_rate_stdev_factor > 0 && sr_hosts.size() >= spec_.success_rate_min_hosts) {
    double mean = 0;
    for (const auto& r : sr_hosts) {
      mean += r.success;
    }
    mean /= static_cast<double>(sr_hosts.size());
    double var = 0;
    for (const auto& r : sr_hosts) {
      var += (r.success - mean) * (r.success - mean);
    }
    auto limit = mean - spec_.success_rate_stdev_factor *
                            std::sqrt(var / static_cast<double>(sr_hosts.size()));
    for (const auto& r : sr_hosts) {
      if (r.success < limit && r.endpoint->health != endpoint_health::ejected) {
        changed = try_eject(now, *r.endpoint) || changed;
      }
    }
  }
  if (spec_.failure_percentage_threshold > 0 &&
      fp_hosts.size() >= spec_.failure_percentage_min_hosts) {
    for (const auto& r : fp_hosts) {
      if ((1.0 - r.success) * 100.0 >= spec_.failure_percentage_threshold &&
          r.endpoint->health != endpoint_health::ejected) {
        changed = try_eject(now, *r.endpoint) || changed;
      }
    }
  }
  return changed;
}

}  // namespace am::policy
