// A configuration error names the field path and the reason, e.g.
// `services.echo.endpoints[2].port: must be 1..65535`.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace am::config {

struct config_error {
  std::string path;
  std::string reason;

  std::string to_string() const { return path.empty() ? reason : path + ": " + reason; }
};

// The outcome of parsing: a value, or every error found (never both).
template <class T>
struct parsed {
  std::optional<T> value;
  std::vector<config_error> errors;

  bool ok() const { return value.has_value(); }

  // All errors, one per line, each prefixed with `origin` (usually the file name).
  std::string describe(const std::string& origin) const {
    std::string out;
    for (const auto& e : errors) {
      out += origin + ": " + e.to_string() + "\n";
    }
    return out;
  }
};

}  // namespace am::config
