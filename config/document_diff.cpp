#include "config/document_diff.h"

#include <yaml-cpp/yaml.h>

#include <map>

namespace am::config {

namespace {

// Service name → its canonical YAML (so formatting-only edits compare equal).
std::map<std::string, std::string> services_of(const std::string& document) {
  std::map<std::string, std::string> out;
  try {
    auto root = YAML::Load(document);
    const YAML::Node& services = root["services"];
    if (services && services.IsMap()) {
      for (const auto& kv : services) {
        YAML::Emitter e;
        e << kv.second;
        out[kv.first.Scalar()] = e.c_str();
      }
    }
  } catch (const YAML::Exception&) {
    // Only validated documents reach here; an unreadable one compares as empty.
  }
  return out;
}

}  // namespace

service_changes diff_services(const std::string& old_document, const std::string& new_document) {
  auto before = services_of(old_document);
  auto after = services_of(new_document);
  service_changes c;
  for (const auto& [name, text] : after) {
    auto i = before.find(name);
    if (i == before.end()) {
      c.added.push_back(name);
    } else if (i->second != text) {
      c.changed.push_back(name);
    }
  }
  for (const auto& [name, text] : before) {
    if (!after.count(name)) {
      c.removed.push_back(name);
    }
  }
  return c;
}

}  // namespace am::config
