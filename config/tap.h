// `meshctl tap`: which requests a tap wants to see, and what it sees of each. Plain structs
// that cross the middleman (actors/messages.h): the filter goes from the API to every
// sidecar, the events come back from the sidecars that saw matching requests.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace am::config {

struct tap_filter {
  std::string service;            // the called service (required)
  std::string from;               // the calling service: only sidecars of it tap (empty: any)
  std::string path_prefix;        // empty: any path
  std::string method;             // empty: any method
  int32_t status = 0;             // 0: any; 1-5: a class (5 is 5xx); else the exact status
  uint32_t max_per_second = 100;  // per worker thread of each sidecar; the rest is counted
};

inline bool status_matches(int32_t wanted, int status) {
  if (wanted == 0) {
    return true;
  }
  return wanted <= 5 ? status / 100 == wanted : status == wanted;
}

inline bool matches(const tap_filter& f, std::string_view service, std::string_view method,
                    std::string_view path, int status) {
  return service == f.service && (f.method.empty() || method == f.method) &&
         path.starts_with(f.path_prefix) && status_matches(f.status, status);
}

// One request a tap saw, as its caller's sidecar proxied it (the last attempt's endpoint).
struct tap_event {
  int64_t unix_ms = 0;  // when the request started
  std::string source;   // the calling service
  std::string destination;
  std::string method;
  std::string authority;
  std::string path;
  int32_t status = 0;  // 0: no response (see error)
  int32_t grpc_status = -1;
  uint64_t latency_us = 0;
  std::string endpoint;  // address:port of the last attempt; empty when none was made
  uint32_t attempt = 0;  // attempts made (1: no retry)
  std::string error;     // the proxy's reason when it answered itself
};

// What a sidecar sends a tap: the events since its last batch, and how many matching
// requests the rate limit left out.
struct tap_events {
  std::string sidecar;
  std::vector<tap_event> events;
  uint64_t dropped = 0;
};

}  // namespace am::config
