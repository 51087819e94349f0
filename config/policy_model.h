// The traffic-policy part of the configuration model: plain, validated structs. The logic
// that applies them lives in policy/ (decisions) and net/ (the data path).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace re2 {
class RE2;
}

namespace am::config {

// How a service's endpoints are spoken to: `auto` sends gRPC calls over HTTP/2 and every
// other request over HTTP/1.1; `http1`, `http2` and `grpc` (HTTP/2) fix it.
enum class app_protocol { automatic, http1, http2, grpc };

// -- retries -----------------------------------------------------------------------------------

struct backoff_spec {
  int64_t base_ms = 25;
  int64_t max_ms = 250;
};

struct header_rule {
  std::string name;
  std::shared_ptr<const re2::RE2> pattern;  // the whole value must match
};

struct retry_spec {
  unsigned attempts = 1;           // tries in all, the first included; 1 = no retries
  int64_t per_try_timeout_ms = 0;  // 0: only the request timeout applies
  backoff_spec backoff;
  bool on_connect_failure = true;  // nothing reached the upstream: always safe
  bool on_reset = false;           // the connection broke before a response head
  bool on_timeout = false;         // a try ran past per_try_timeout
  bool on_5xx = false;
  bool on_gateway_error = false;  // 502, 503, 504
  std::vector<int> statuses;
  std::vector<int> grpc_statuses;  // a gRPC call's status (trailers-only responses)
  std::vector<header_rule> header_rules;
  bool non_idempotent = false;        // also retry POST and PATCH
  size_t max_body_bytes = 64 * 1024;  // a larger request body is sent once
};

struct retry_budget_spec {
  double ratio = 0.2;
  uint32_t min_per_second = 10;
  int64_t window_ms = 10'000;
  bool operator==(const retry_budget_spec&) const = default;
};

// -- circuit breaking and outlier detection ----------------------------------------------------

struct breaker_spec {
  uint32_t consecutive_failures = 5;  // 0: the streak trigger is off
  double failure_ratio = 0;           // 0: the ratio trigger is off; else in (0, 1]
  uint32_t min_requests = 20;         // the ratio needs this many requests in the window
  int64_t window_ms = 10'000;
  int64_t open_ms = 5'000;
  uint32_t half_open_probes = 3;  // all must succeed to close
  bool operator==(const breaker_spec&) const = default;
};

struct outlier_spec {
  uint32_t consecutive_5xx = 5;             // 0: off
  uint32_t consecutive_gateway_errors = 0;  // 0: off
  int64_t base_ejection_ms = 30'000;
  int64_t max_ejection_ms = 300'000;
  uint32_t max_ejection_percent = 50;
  int64_t interval_ms = 10'000;
  double success_rate_stdev_factor = 0;  // 0: the success-rate detector is off
  uint32_t success_rate_min_hosts = 5;
  uint32_t success_rate_request_volume = 100;
  uint32_t failure_percentage_threshold = 0;  // 0: the failure-percentage detector is off
  uint32_t failure_percentage_min_hosts = 5;
  uint32_t failure_percentage_request_volume = 50;
  bool operator==(const outlier_spec&) const = default;
};

// -- routing ---------------------------------------------------------------------------------

struct string_match {
  enum class kind { exact, prefix, regex, present };
  kind how = kind::exact;
  std::string value;
  std::shared_ptr<const re2::RE2> regex;  // for kind::regex: the whole value must match
};

struct field_match {
  std::string name;  // a header name (case-insensitive) or a query parameter (exact)
  string_match match;
};

using label_set = std::map<std::string, std::string>;

// A share of a route's traffic for the endpoints whose labels include `subset`.
struct route_target {
  label_set subset;  // empty: every endpoint of the service
  uint32_t weight = 100;
};

struct header_ops {
  std::vector<std::pair<std::string, std::string>> set;  // replaces a field of that name
  std::vector<std::string> remove;
};

struct fault_spec {
  double delay_percent = 0;
  int64_t delay_ms = 0;
  double abort_percent = 0;
  int abort_status = 503;
};

struct mirror_spec {
  label_set subset;
  double percent = 0;  // 0: no mirroring
};

// One routing rule of a service; the first rule that matches a request decides.
struct route_spec {
  std::string name;
  std::optional<string_match> path;  // on the path without its query
  std::vector<std::string> methods;  // empty: any
  std::vector<field_match> headers;
  std::vector<field_match> query;
  std::vector<route_target> targets;  // empty: every endpoint
  std::string hash_header;            // sticky splits: the same value, the same target
  std::string hash_cookie;
  header_ops request_headers;
  header_ops response_headers;
  fault_spec fault;
  mirror_spec mirror;
  std::optional<retry_spec> retry;  // overrides the service's
  int64_t timeout_ms = 0;           // 0: the service's
};

// -- access control ----------------------------------------------------------------------------

// Which calling services may reach a service; checked by the callee's inbound listener.
struct access_spec {
  std::vector<std::string> allow;  // empty: everyone not denied
  std::vector<std::string> deny;
};

}  // namespace am::config
