// What an accepted config document changed, per service, for the audit log.
#pragma once

#include <string>
#include <vector>

namespace am::config {

struct service_changes {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> changed;
};

// Compares the `services` sections of two node documents (YAML text; either may be empty).
// A service whose YAML differs in any way is `changed`.
service_changes diff_services(const std::string& old_document, const std::string& new_document);

}  // namespace am::config
