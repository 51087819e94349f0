#include "policy/retry_policy.h"

#include <re2/re2.h>

#include <algorithm>

namespace am::policy {

const char* to_string(retry_decision d) {
  switch (d) {
    case retry_decision::retry:
      return "retry";
    case retry_decision::no_condition:
      return "no_condition";
    case retry_decision::no_attempts_left:
      return "no_attempts_left";
    case retry_decision::no_method:
      return "no_method";
    case retry_decision::no_body_replay:
      return "no_body_replay";
  }
  return "?";
}

bool is_idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "TRACE" ||
         method == "PUT" || method == "DELETE";
}

namespace {

bool lists_grpc_status(const retry_spec& spec, const attempt_outcome& o) {
  return o.grpc_status > 0 && std::find(spec.grpc_statuses.begin(), spec.grpc_statuses.end(),
                                        o.grpc_status) != spec.grpc_statuses.end();
}

bool matches_condition(const retry_spec& spec, const attempt_outcome& o) {
  switch (o.failure) {
    case attempt_failure::connect_failure:
      return spec.on_connect_failure;
    case attempt_failure::reset:
      return spec.on_reset;
    case attempt_failure::timeout:
      return spec.on_timeout;
    case attempt_failure::none:
      break;
  }
  if (spec.on_5xx && o.status >= 500 && o.status <= 599) {
    return true;
  }
  if (spec.on_gateway_error && (o.status == 502 || o.status == 503 || o.status == 504)) {
    return true;
  }
  if (std::find(spec.statuses.begin(), spec.statuses.end(), o.status) != spec.statuses.end()) {
    return true;
  }
  if (lists_grpc_status(spec, o)) {
    return true;
  }
  if (o.headers != nullptr) {
    for (const auto& rule : spec.header_rules) {
      const auto* value = o.headers->find(rule.name);
      if (value != nullptr && RE2::FullMatch(*value, *rule.pattern)) {
        return true;
      }
    }
  }
  return false;
}

}  // namespace

retry_decision decide_retry(const retry_spec& spec, const attempt_outcome& outcome,
                            unsigned tries_made, std::string_view method, bool body_replayable) {
  if (!matches_condition(spec, outcome)) {
    return retry_decision::no_condition;
  }
  if (tries_made >= spec.attempts) {
    return retry_decision::no_attempts_left;
  }
  // A connect failure never reached the application, so any method may go again. gRPC calls
  // are all POST: the status codes listed are the policy's word that the call is safe to
  // repeat (as in Envoy and gRPC's own retry policy).
  if (outcome.failure != attempt_failure::connect_failure && !lists_grpc_status(spec, outcome) &&
      !is_idempotent(method) && !spec.non_idempotent) {
    return retry_decision::no_method;
  }
  if (!body_replayable) {
    return retry_decision::no_body_replay;
  }
  return retry_decision::retry;
}

}  // namespace am::policy
