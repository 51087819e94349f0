// Whether a failed attempt is tried again. Every "no" has its own value so that callers can
// count why requests were not retried (after Envoy's RetryStateImpl).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/backoff.h"
#include "policy/header_source.h"

namespace re2 {
class RE2;
}

namespace am::policy {

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
  std::vector<header_rule> header_rules;
  bool non_idempotent = false;        // also retry POST, PATCH (and CONNECT never)
  size_t max_body_bytes = 64 * 1024;  // a larger request body is sent once
};

enum class attempt_failure { none, connect_failure, reset, timeout };

struct attempt_outcome {
  attempt_failure failure = attempt_failure::none;
  int status = 0;                          // when failure is none
  const header_source* headers = nullptr;  // the response's, when failure is none
};

enum class retry_decision {
  retry,
  no_condition,      // the outcome matches no retry condition (usually: success)
  no_attempts_left,  // attempts exhausted
  no_method,         // the method is not idempotent and the policy does not allow it
  no_body_replay,    // the body was larger than max_body_bytes, so it can't be re-sent
};

const char* to_string(retry_decision d);

// RFC 9110 §9.2.2.
bool is_idempotent(std::string_view method);

// `tries_made` counts the attempt that just ended.
retry_decision decide_retry(const retry_spec& spec, const attempt_outcome& outcome,
                            unsigned tries_made, std::string_view method, bool body_replayable);

}  // namespace am::policy
