// YAML to validated config structs. Every error carries the field path and the reason;
// a document with any error yields no value at all, so a bad file is rejected whole.
#pragma once

#include <string>

#include "config/error.h"
#include "config/model.h"

namespace am::config {

// The node file: roles, sidecar settings, services and (optionally) their endpoints.
parsed<node> parse_node(const std::string& yaml_text);
parsed<node> load_node_file(const std::string& path);

// A static endpoint file: `services: {NAME: {endpoints: [...]}}`.
parsed<endpoint_table> parse_endpoints(const std::string& yaml_text);
parsed<endpoint_table> load_endpoints_file(const std::string& path);

// "250ms", "5s", "2m"; false when the text is no such duration.
bool parse_duration(const std::string& text, millis& out);

}  // namespace am::config
