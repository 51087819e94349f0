// Forwarding-loop detection across sidecars. Every sidecar that forwards a request appends its
// hop token to `x-actormesh-hops` (a comma-separated list): "<service>@<instance>" on the
// outbound side, the same with ":in" on the inbound side, so that a sidecar calling its own
// service through the mesh (outbound, then inbound) is no loop. A request that already carries
// this sidecar's token for the same side came back: a loop. The count of tokens is the number
// of proxy hops, bounded by `sidecar.max_hops`. Pure logic, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace am::net {

inline constexpr std::string_view hops_header = "x-actormesh-hops";

enum class hop_verdict { ok, loop, too_many };

// Checks the incoming `x-actormesh-hops` value (empty when absent) against `own_token`.
hop_verdict check_hops(std::string_view hops, std::string_view own_token, size_t max_hops);

// The token of a sidecar: "<service>@<instance>" (outbound) or "<service>@<instance>:in".
std::string hop_token(std::string_view service, std::string_view instance, bool inbound);

// A random instance id (8 hex digits) for one sidecar process.
std::string new_instance_id();

}  // namespace am::net
