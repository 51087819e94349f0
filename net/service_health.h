// What the data path records about a service's upstream attempts, and what the control path
// decides from it (DESIGN.md §3: the data path records, the control path decides).
//
// Workers buffer attempt outcomes per service and hand a batch to the service's outcome sink
// every tick (10 ms); the sink (a CAF actor's mailbox, in actors/) runs the breaker and the
// outlier detector and sends back a service_health snapshot that workers apply to new
// requests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace am::net {

struct attempt_record {
  uint32_t endpoint = 0;  // index into route_service::endpoints of snapshot `version`
  int status = 0;         // the response status, or 0 when the connection failed or broke
};

struct outcome_batch {
  uint64_t snapshot_version = 0;
  std::vector<attempt_record> attempts;
};

class outcome_sink {
 public:
  virtual ~outcome_sink() = default;
  // Called on a worker thread; must not block.
  virtual void deliver(outcome_batch&& batch) = 0;
};

// A worker's requests and retries to one service since its last report, for the service's
// retry actor, which answers with the worker's next lease of retry tokens.
struct usage_report {
  uint32_t worker = 0;
  uint64_t requests = 0;
  uint64_t retries = 0;
};

class usage_sink {
 public:
  virtual ~usage_sink() = default;
  // Called on a worker thread; must not block.
  virtual void deliver(const usage_report& report) = 0;
};

enum class breaker_mode { closed, open, half_open };

struct service_health {
  uint64_t snapshot_version = 0;  // the endpoint indices below are those of this snapshot
  breaker_mode breaker = breaker_mode::closed;
  uint64_t epoch = 0;              // changes each time the breaker half-opens
  uint32_t probes_per_worker = 0;  // in half-open: requests each worker may let through
  std::vector<bool> ejected;       // by endpoint index
  std::vector<bool> probation;     // back from ejection: one request per worker decides
};

using service_health_ptr = std::shared_ptr<const service_health>;

}  // namespace am::net
