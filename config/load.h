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

// The mesh config the commander owns and pushes: `services: {NAME: {timeout, routes, ...}}`,
// the node file's services section without endpoints (those come from discovery).
// Whoever may apply a config (the API, Kubernetes) may not make the control plane parse or push
// an unbounded one: documents over these limits are refused whole.
using service_map = std::map<std::string, service>;
inline constexpr size_t max_document_bytes = 4 * 1024 * 1024;
inline constexpr size_t max_services = 10000;
inline constexpr size_t max_routes_per_service = 256;
parsed<service_map> parse_mesh_config(const std::string& yaml_text);

// The mesh config document of a (valid) node file: its services section, endpoints left out.
std::string services_document(const std::string& node_yaml);

// One endpoint written as JSON or YAML ({address, port, weight, labels}), e.g. an etcd value;
// `path` prefixes the errors' field paths.
parsed<endpoint> parse_endpoint(const std::string& json_or_yaml, const std::string& path);

// "250ms", "5s", "2m"; false when the text is no such duration.
bool parse_duration(const std::string& text, millis& out);

}  // namespace am::config
