#include "config/grpc_codes.h"

#include <array>
#include <string>

namespace am::config {

namespace {

constexpr std::array<const char*, grpc_code_count> names = {
    "ok",
    "cancelled",
    "unknown",
    "invalid_argument",
    "deadline_exceeded",
    "not_found",
    "already_exists",
    "permission_denied",
    "resource_exhausted",
    "failed_precondition",
    "aborted",
    "out_of_range",
    "unimplemented",
    "internal",
    "unavailable",
    "data_loss",
    "unauthenticated",
};

}  // namespace

std::optional<int> grpc_code_by_name(std::string_view name) {
  std::string normal{name};
  for (auto& c : normal) {
    c = c == '-' ? '_' : c;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (normal == names[i]) {
      return static_cast<int>(i);
    }
  }
  return std::nullopt;
}

const char* grpc_code_name(int code) {
  return code >= 0 && code < grpc_code_count ? names[static_cast<size_t>(code)] : "unknown";
}

}  // namespace am::config
