// Whether a failed attempt is tried again. Every "no" has its own value so that callers can
// count why requests were not retried (after Envoy's RetryStateImpl).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "policy/backoff.h"
#include "policy/header_source.h"

namespace am::policy {

using config::header_rule;
using config::retry_spec;

enum class attempt_failure { none, connect_failure, reset, timeout };

struct attempt_outcome {
  attempt_failure failure = attempt_failure::none;
  int status = 0;                          // when failure is none
  const header_source* headers = nullptr;  // the response's, when failure is none
  int grpc_status = -1;                    // a gRPC call's status when the head carries it
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
