// What the proxy needs to know of gRPC on top of HTTP/2 (grpc/doc/PROTOCOL-HTTP2.md): which
// requests are calls, their deadline, the status of errors the proxy itself produces, and how
// a call's status counts for the breaker and outlier detection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "net/proxy_error.h"

namespace am::net::grpc {

inline constexpr int ok = 0;
inline constexpr int cancelled = 1;
inline constexpr int unknown = 2;
inline constexpr int deadline_exceeded = 4;
inline constexpr int unimplemented = 12;
inline constexpr int internal = 13;
inline constexpr int unavailable = 14;

// "application/grpc", "application/grpc+proto", ...
bool is_grpc_content_type(std::string_view content_type);

// A `grpc-timeout` value ("100m", "5S": at most 8 digits and a unit of H M S m u n) in
// milliseconds, rounded up; nothing when malformed.
std::optional<int64_t> parse_timeout_ms(std::string_view value);

// A `grpc-status` value; nothing when it is not a decimal number.
std::optional<int> parse_status(std::string_view value);

// The status a call gets when the proxy itself fails it (Envoy's mapping of the HTTP status
// it would have answered, with timeouts as DEADLINE_EXCEEDED).
int status_of(proxy_error e);

// How a call that ended with `code` counts for breakers and outlier detection, as an HTTP
// status: server-side failures are 5xx, the caller's own errors are not.
int http_status_of(int code);

// `grpc-message` is percent-encoded (RFC 3986 unreserved and printable ASCII pass as is).
void append_encoded_message(std::string& out, std::string_view message);

}  // namespace am::net::grpc
