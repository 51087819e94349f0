#include <catch2/catch.hpp>

#include "net/grpc.h"

using namespace am::net;

TEST_CASE("gRPC calls are told by their content type") {
  CHECK(grpc::is_grpc_content_type("application/grpc"));
  CHECK(grpc::is_grpc_content_type("application/grpc+proto"));
  CHECK(grpc::is_grpc_content_type("Application/GRPC;charset=utf-8"));
  CHECK_FALSE(grpc::is_grpc_content_type("application/grpc-web"));
  CHECK_FALSE(grpc::is_grpc_content_type("application/json"));
  CHECK_FALSE(grpc::is_grpc_content_type("application/grp"));
}

TEST_CASE("grpc-timeout values become milliseconds, rounded up") {
  CHECK(grpc::parse_timeout_ms("1H") == 3'600'000);
  CHECK(grpc::parse_timeout_ms("2M") == 120'000);
  CHECK(grpc::parse_timeout_ms("3S") == 3000);
  CHECK(grpc::parse_timeout_ms("250m") == 250);
  CHECK(grpc::parse_timeout_ms("1500u") == 2);
  CHECK(grpc::parse_timeout_ms("1n") == 1);
  CHECK(grpc::parse_timeout_ms("99999999S") == 99'999'999'000);
  CHECK_FALSE(grpc::parse_timeout_ms("123456789S"));  // more than 8 digits
  CHECK_FALSE(grpc::parse_timeout_ms("10"));          // no unit
  CHECK_FALSE(grpc::parse_timeout_ms("10s"));         // units are case-sensitive
  CHECK_FALSE(grpc::parse_timeout_ms("-1S"));
  CHECK_FALSE(grpc::parse_timeout_ms("S"));
}

TEST_CASE("grpc-status values are decimal codes") {
  CHECK(grpc::parse_status("0") == 0);
  CHECK(grpc::parse_status("14") == 14);
  CHECK_FALSE(grpc::parse_status(""));
  CHECK_FALSE(grpc::parse_status("14 "));
  CHECK_FALSE(grpc::parse_status("x"));
}

TEST_CASE("errors the proxy produces have the status a gRPC client expects") {
  CHECK(grpc::status_of(proxy_error::no_endpoint) == grpc::unavailable);
  CHECK(grpc::status_of(proxy_error::breaker_open) == grpc::unavailable);
  CHECK(grpc::status_of(proxy_error::upstream_connect_failed) == grpc::unavailable);
  CHECK(grpc::status_of(proxy_error::upstream_reset) == grpc::unavailable);
  CHECK(grpc::status_of(proxy_error::upstream_timeout) == grpc::deadline_exceeded);
  CHECK(grpc::status_of(proxy_error::access_denied) == 7);  // PERMISSION_DENIED
  CHECK(grpc::status_of(proxy_error::unknown_service) == grpc::unimplemented);
}

TEST_CASE("a call's status counts as a server failure only when the server failed") {
  CHECK(grpc::http_status_of(grpc::ok) == 200);
  CHECK(grpc::http_status_of(grpc::unavailable) == 503);
  CHECK(grpc::http_status_of(grpc::deadline_exceeded) == 504);
  CHECK(grpc::http_status_of(grpc::internal) == 500);
  CHECK(grpc::http_status_of(3) < 500);  // INVALID_ARGUMENT: the caller's error
  CHECK(grpc::http_status_of(5) < 500);  // NOT_FOUND
  CHECK(grpc::http_status_of(grpc::unimplemented) < 500);
}

TEST_CASE("grpc-message is percent-encoded") {
  std::string out;
  grpc::append_encoded_message(out, "no endpoint: 100% gone\n\xc3\xa9");
  CHECK(out == "no endpoint: 100%25 gone%0A%C3%A9");
}
