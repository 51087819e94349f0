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
// Endpoints are named by their identity (an id the sidecar gives each address of a service,
// never reused for another address), not by a position in one snapshot: when the endpoint
// set changes, the endpoints that stay keep their streaks, ejections and probation.
//
// Ejection cap (the rule for "everything is failing"): at most max_ejection_percent of a
// service's endpoints (rounded down) are ejected at once, and never the last endpoint in
// rotation. So a service always keeps at least one endpoint, and when every endpoint fails
// the mesh keeps sending to the ones it could not eject, instead of Envoy's panic mode that
// suddenly sends to all of them again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <vector>

#include "config/policy_model.h"
#include "policy/time.h"

namespace am::policy {

using config::outlier_spec;

enum class endpoint_health { healthy, ejected, probation };

using endpoint_id = uint32_t;

class outlier_detector {
 public:
  // A detector over endpoints 0..endpoints-1.
  outlier_detector(outlier_spec spec, size_t endpoints = 0);

  // The endpoints of the service now: those that stay keep their state, new ones start
  // healthy, the others are forgotten. Returns true when an ejected endpoint was dropped.
  bool set_endpoints(const std::vector<endpoint_id>& ids);
  // New settings; every endpoint keeps its state (an ejection runs its course).
  void set_spec(const outlier_spec& spec) { spec_ = spec; }

  // One outcome of a request to `endpoint`: its status, or 0 when the connection failed.
  // Outcomes of endpoints it does not know (no longer in the set) are ignored.
  // Returns true when the set of ejected endpoints, or of those on probation, changed.
  bool record(time_ms now, endpoint_id endpoint, int status);

  // Ends ejections whose time is up, and once per interval runs the rate detectors.
  // Returns true when the set of ejected endpoints changed.
  bool tick(time_ms now);

  // An unknown endpoint is healthy.
  endpoint_health health(endpoint_id endpoint) const;
  bool ejected(endpoint_id endpoint) const { return health(endpoint) == endpoint_health::ejected; }
  size_t ejected_count() const;
  size_t size() const { return hosts_.size(); }
  // The endpoints in `state`, in id order.
  std::vector<endpoint_id> in_state(endpoint_health state) const;

  // When the current ejection of `endpoint` ends (0 when it is not ejected).
  time_ms ejected_until(endpoint_id endpoint) const;

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

  bool try_eject(time_ms now, host& h);
  bool run_interval_detectors(time_ms now);

  outlier_spec spec_;
  std::map<endpoint_id, host> hosts_;
  time_ms next_interval_ = -1;
};

}  // namespace am::policy
