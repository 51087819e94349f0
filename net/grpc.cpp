#include "net/grpc.h"

#include <charconv>

#include "net/http1_message.h"

namespace am::net::grpc {

bool is_grpc_content_type(std::string_view content_type) {
  constexpr std::string_view base = "application/grpc";
  if (content_type.size() < base.size() || !iequals(content_type.substr(0, base.size()), base)) {
    return false;
  }
  return content_type.size() == base.size() || content_type[base.size()] == '+' ||
         content_type[base.size()] == ';';
}

std::optional<int64_t> parse_timeout_ms(std::string_view value) {
  if (value.size() < 2 || value.size() > 9) {
    return std::nullopt;
  }
  int64_t amount = 0;
  auto digits = value.substr(0, value.size() - 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), amount);
  if (ec != std::errc{} || end != digits.data() + digits.size() || amount < 0) {
    return std::nullopt;
  }
  auto ceil_div = [](int64_t v, int64_t d) { return (v + d - 1) / d; };
  switch (value.back()) {
    case 'H':
      return amount * 3'600'000;
    case 'M':
      return amount * 60'000;
    case 'S':
      return amount * 1000;
    case 'm':
      return amount;
    case 'u':
      return ceil_div(amount, 1000);
    case 'n':
      return ceil_div(amount, 1'000'000);
    default:
      return std::nullopt;
  }
}

std::optional<int> parse_status(std::string_view value) {
  int code = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), code);
  if (ec != std::errc{} || end != value.data() + value.size() || code < 0) {
    return std::nullopt;
  }
  return code;
}

int status_of(proxy_error e) {
  switch (e) {
    case proxy_error::upstream_timeout:
      return deadline_exceeded;
    case proxy_error::access_denied:
      return 7;  // PERMISSION_DENIED
    case proxy_error::unknown_service:
      return unimplemented;
    case proxy_error::loop_detected:
      return 9;  // FAILED_PRECONDITION: no retry of the same call can succeed
    case proxy_error::bad_request:
    case proxy_error::bad_framing:
    case proxy_error::header_too_large:
    case proxy_error::upstream_bad_response:
      return internal;
    case proxy_error::header_timeout:
    case proxy_error::resolve_failed:
    case proxy_error::no_endpoint:
    case proxy_error::upstream_connect_failed:
    case proxy_error::upstream_reset:
    case proxy_error::fault_injected:
    case proxy_error::breaker_open:
    case proxy_error::overloaded:
      return unavailable;
  }
  return unknown;
}

int http_status_of(int code) {
  switch (code) {
    case ok:
      return 200;
    case unavailable:
      return 503;
    case deadline_exceeded:
      return 504;
    case 8:  // RESOURCE_EXHAUSTED
      return 429;
    case unknown:
    case internal:
    case 15:  // DATA_LOSS
      return 500;
    default:
      return 400;  // the caller's own error: not the endpoint's failure
  }
}

void append_encoded_message(std::string& out, std::string_view message) {
  constexpr char hex[] = "0123456789ABCDEF";
  for (unsigned char c : message) {
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
  }
}

}  // namespace am::net::grpc
