// Read access to a message's header fields for policy decisions, without policy knowing the
// data plane's message types.
#pragma once

#include <string>
#include <string_view>

namespace am::policy {

class header_source {
 public:
  // The value of the first field called `name` (case-insensitive), or null.
  virtual const std::string* find(std::string_view name) const = 0;

 protected:
  ~header_source() = default;
};

}  // namespace am::policy
