// What the two halves of downstream_connection (downstream_connection.cpp: the connection and
// the response; downstream_routing.cpp: choosing the upstream) share. Internal to net/.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "config/policy_model.h"
#include "net/http1_message.h"

namespace am::net::downstream_detail {

// Requests that name no mesh service (pass-through, inbound, CONNECT) wait this long for a
// response head.
inline constexpr int64_t passthrough_timeout_ms = 15000;
// Connect timeout of upstreams that are no mesh service.
inline constexpr int64_t default_connect_timeout_ms = 2000;

// Set by the caller's sidecar on requests to mesh services; read by the callee's inbound
// listener for access control. An application's own value is always replaced.
inline constexpr std::string_view caller_header = "x-actormesh-caller";
// The attempt number (1 for the first try), so upstreams can see retries.
inline constexpr std::string_view attempt_header = "x-actormesh-attempt";

// Whether a header operation sets or removes field `name` (so the original is dropped).
inline bool touched_by(const config::header_ops* ops, std::string_view name) {
  if (ops == nullptr) {
    return false;
  }
  for (const auto& [k, v] : ops->set) {
    if (iequals(k, name)) {
      return true;
    }
  }
  for (const auto& k : ops->remove) {
    if (iequals(k, name)) {
      return true;
    }
  }
  return false;
}

inline void append_set_fields(const config::header_ops* ops, std::string& out) {
  if (ops == nullptr) {
    return;
  }
  for (const auto& [k, v] : ops->set) {
    out += k;
    out += ": ";
    out += v;
    out += "\r\n";
  }
}

}  // namespace am::net::downstream_detail
