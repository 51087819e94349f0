// gRPC status codes by name (as in grpc/status.h), for retry conditions and logs.
#pragma once

#include <optional>
#include <string_view>

namespace am::config {

// `name` in snake_case or kebab-case ("resource_exhausted", "resource-exhausted").
std::optional<int> grpc_code_by_name(std::string_view name);

// "ok", "cancelled", ...; "unknown" for a code out of range.
const char* grpc_code_name(int code);

inline constexpr int grpc_code_count = 17;

}  // namespace am::config
