// Outlier detection: finds failing endpoints of one service and takes them out of rotation
// for a while (after Envoy's outlier detection, with a documented rule for the corner Envoy
// users trip over).
//
// Detectors: consecutive 5xx, consecutive gateway errors (502/503/504 and connection
// failures), and per interval a success-rate detector (below mean - factor * stdev of the
// hosts with enough volume) and a failure-percentage detector.
//
// Ejection: the n-th ejection of an endpoint lasts base * 2^(n-1), capped at max. When it
// ends the endpoint is on probation: it takes traffic again, and its first outcome decides:
// success returns it to health, failure ejects it again at once (for twice as long). Each
// interval an endpoint spends healthy lowers its ejection count by one.
//
// Ejection cap (the rule for "everything is failing"): at most max_ejection_percent of a
// service's endpoints (rounded down) are ejected at once, and never the last endpoint in
// rotation. So a service always keeps at least one endpoint, and when every endpoint fails
// the mesh keeps sending to the ones it could not eject, instead of Envoy's panic mode that
// suddenly sends to all of them again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "config/policy_model.h"
#include "policy/time.h"

namespace am::policy {

using config::outlier_spec;

enum class endpoint_health { healthy, ejected, probation };

class outlier_detector {
 public:
  outlier_detector(outlier_spec spec, size_t endpoints);

  // One outcome of a request to `endpoint`: its status, or 0 when the connection failed.
  // Returns true when the set of ejected endpoints changed.
  bool record(time_ms now, size_t endpoint, int status);

  // Ends ejections whose time is up, and once per interval runs the rate detectors.
  // Returns true when the set of ejected endpoints changed.
  bool tick(time_ms now);

  endpoint_health health(size_t endpoint) const { return hosts_[endpoint].health; }
  bool ejected(size_t endpoint) const { return health(endpoint) == endpoint_health::ejected; }
  size_t ejected_count() const;
  size_t size() const { return hosts_.size(); }

  // When the current ejection of `endpoint` ends.
  time_ms ejected_until(size_t endpoint) const { return hosts_[endpoint].until; }

 private:
  struct host {
    endpoint_health health = endpoint_health::healthy;
    uint32_t streak_5xx = 0;
    uint32_t streak_gateway = 0;
    uint32_t ejections = 0;  // drives the ejection time; decays while healthy
    time_ms until = 0;
    uint64_t interval_requests = 0;
    uint64_t interval_failures = 0;
  };

  bool try_eject(time_ms now, size_t endpoint);
  bool run_interval_detectors(time_ms now);

  outlier_spec spec_;
  std::vector<host> hosts_;
  time_ms next_interval_ = -1;
};

}  // namespace am::policy
