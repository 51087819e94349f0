// The YAML documents the mesh reads: the node file, the mesh config (from files, the API and
// Kubernetes) and endpoint files. Anything must be accepted or rejected with errors, never
// crash, hang or take unbounded memory (the document limits apply).
#include <cstddef>
#include <cstdint>
#include <string>

#include "config/load.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  am::config::parse_node(text);
  am::config::parse_mesh_config(text);
  am::config::parse_endpoints(text);
  am::config::parse_endpoint(text, "fuzz");
  return 0;
}
