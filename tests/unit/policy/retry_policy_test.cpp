#include <re2/re2.h>
#include <catch2/catch.hpp>

#include <map>

#include "fakes/fake_headers.h"
#include "policy/retry_policy.h"

using namespace am::policy;
using am::fakes::fake_headers;

namespace {

retry_spec header_hint_policy() {
  retry_spec s;
  s.attempts = 3;
  s.header_rules.push_back({"x-retry-hint", std::make_shared<re2::RE2>("^(busy|later)$")});
  return s;
}

attempt_outcome response(int status, const header_source* h = nullptr) {
  return {attempt_failure::none, status, h};
}

}  // namespace

TEST_CASE("a response header matching the rule's regex is retried, another value is not") {
  auto spec = header_hint_policy();
  fake_headers busy;
  busy.fields["x-retry-hint"] = "busy";
  fake_headers never;
  never.fields["x-retry-hint"] = "busy-never";
  CHECK(decide_retry(spec, response(200, &busy), 1, "GET", true) == retry_decision::retry);
  CHECK(decide_retry(spec, response(200, &never), 1, "GET", true) == retry_decision::no_condition);
  CHECK(decide_retry(spec, response(200), 1, "GET", true) == retry_decision::no_condition);
}

TEST_CASE("attempts count the first try") {
  retry_spec spec;
  spec.attempts = 3;
  spec.on_gateway_error = true;
  CHECK(decide_retry(spec, response(503), 1, "GET", true) == retry_decision::retry);
  CHECK(decide_retry(spec, response(503), 2, "GET", true) == retry_decision::retry);
  CHECK(decide_retry(spec, response(503), 3, "GET", true) == retry_decision::no_attempts_left);
  CHECK(decide_retry(spec, response(500), 1, "GET", true) == retry_decision::no_condition);
}

TEST_CASE("POST is retried only when allowed, except after a connect failure") {
  retry_spec spec;
  spec.attempts = 2;
  spec.on_5xx = true;
  CHECK(decide_retry(spec, response(500), 1, "POST", true) == retry_decision::no_method);
  CHECK(decide_retry(spec, {attempt_failure::connect_failure, 0, nullptr}, 1, "POST", true) ==
        retry_decision::retry);
  spec.non_idempotent = true;
  CHECK(decide_retry(spec, response(500), 1, "POST", true) == retry_decision::retry);
}

TEST_CASE("a body too large to buffer is never re-sent") {
  retry_spec spec;
  spec.attempts = 2;
  spec.on_reset = true;
  CHECK(decide_retry(spec, {attempt_failure::reset, 0, nullptr}, 1, "PUT", false) ==
        retry_decision::no_body_replay);
}

TEST_CASE("status lists, 5xx and timeouts are separate conditions") {
  retry_spec spec;
  spec.attempts = 2;
  spec.statuses = {429};
  CHECK(decide_retry(spec, response(429), 1, "GET", true) == retry_decision::retry);
  CHECK(decide_retry(spec, response(503), 1, "GET", true) == retry_decision::no_condition);
  CHECK(decide_retry(spec, {attempt_failure::timeout, 0, nullptr}, 1, "GET", true) ==
        retry_decision::no_condition);
  spec.on_timeout = true;
  CHECK(decide_retry(spec, {attempt_failure::timeout, 0, nullptr}, 1, "GET", true) ==
        retry_decision::retry);
}

TEST_CASE("gRPC statuses listed in the policy retry the call, whatever its method") {
  retry_spec spec;
  spec.attempts = 2;
  spec.grpc_statuses = {14, 8};  // unavailable, resource_exhausted
  attempt_outcome unavailable{attempt_failure::none, 200, nullptr, 14};
  attempt_outcome internal{attempt_failure::none, 200, nullptr, 13};
  attempt_outcome ok{attempt_failure::none, 200, nullptr, 0};
  CHECK(decide_retry(spec, unavailable, 1, "POST", true) == retry_decision::retry);
  CHECK(decide_retry(spec, internal, 1, "POST", true) == retry_decision::no_condition);
  CHECK(decide_retry(spec, ok, 1, "POST", true) == retry_decision::no_condition);
  CHECK(decide_retry(spec, unavailable, 2, "POST", true) == retry_decision::no_attempts_left);
  // A 5xx condition on a POST still needs non_idempotent: only gRPC statuses are exempt.
  spec.on_5xx = true;
  CHECK(decide_retry(spec, response(503), 1, "POST", true) == retry_decision::no_method);
}
