// What the data path records about a service's upstream attempts, and what the control path
// decides from it (DESIGN.md §3: the data path records, the control path decides).
//
// Workers buffer attempt outcomes per service and hand a batch to the service's outcome sink
// every tick (10 ms); the sink (a CAF actor's mailbox, in actors/) runs the breaker and the
// outlier detector and sends back a service_health snapshot that workers apply to new
// requests. Endpoints are named by their identity (`route_endpoint::id`, stable across
// snapshots), never by a position in one snapshot, so batches and decisions stay valid
// whatever snapshot a worker or a request is on (DESIGN.md §3.6).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/sink.h"

namespace am::net {

using endpoint_id = uint32_t;

struct attempt_record {
  endpoint_id endpoint = 0;
  int status = 0;  // the response status, or 0 when the connection failed or broke
};

// An endpoint's id with its address (for logs): what the breaker actor is told of a service's
// endpoint set.
struct named_endpoint {
  endpoint_id id = 0;
  std::string key;
};

using endpoint_names = std::vector<named_endpoint>;

struct outcome_batch {
  std::vector<attempt_record> attempts;
};

using outcome_sink = sink<outcome_batch>;

// A worker's requests and retries to one service since its last report, for the service's
// retry actor, which answers with the worker's next lease of retry tokens.
struct usage_report {
  uint32_t worker = 0;
  uint64_t requests = 0;
  uint64_t retries = 0;
};

using usage_sink = sink<usage_report>;

enum class breaker_mode { closed, open, half_open };

struct service_health {
  breaker_mode breaker = breaker_mode::closed;
  uint64_t epoch = 0;                  // changes each time the breaker half-opens
  uint32_t probes_per_worker = 0;      // in half-open: requests each worker may let through
  std::vector<endpoint_id> ejected;    // sorted
  std::vector<endpoint_id> probation;  // sorted; back from ejection: one request per worker decides

  bool is_ejected(endpoint_id id) const {
    return std::binary_search(ejected.begin(), ejected.end(), id);
  }
  bool on_probation(endpoint_id id) const {
    return std::binary_search(probation.begin(), probation.end(), id);
  }
};

using service_health_ptr = std::shared_ptr<const service_health>;

}  // namespace am::net
