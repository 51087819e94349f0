// What a sidecar tells the global-lb about the load of the endpoints of its `lb: global`
// services (once a second), and what the global-lb answers: a weight per endpoint
// (lb/global_weights decides; DESIGN.md §5). Plain structs: actors/messages.h makes them
// messages that cross the middleman.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "net/sink.h"

namespace am::net {

struct endpoint_load_report {
  std::string endpoint;     // "ip:port"
  uint64_t requests = 0;    // attempts completed since the last report
  uint64_t errors = 0;      // of those, failed (5xx, connection failures)
  uint64_t latency_us = 0;  // their latencies, summed
  uint32_t active = 0;      // attempts in flight now
  bool ejected = false;     // ejected by this sidecar's outlier detection
};

struct service_load_report {
  std::string service;
  std::vector<endpoint_load_report> endpoints;
};

struct load_report {
  std::string sidecar;  // the node's name
  std::vector<service_load_report> services;
};

struct service_weights {
  std::string service;
  std::vector<std::string> endpoints;
  std::vector<uint32_t> weights;  // parallel to endpoints
};

struct weight_table {
  uint64_t version = 0;
  std::vector<service_weights> services;
};

using weight_table_ptr = std::shared_ptr<const weight_table>;

// Where a worker hands its report when the sidecar asks (the sidecar actor's mailbox).
using load_sink = sink<load_report>;

}  // namespace am::net
