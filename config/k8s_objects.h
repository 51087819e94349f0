// The objects a Kubernetes list + watch follows (EndpointSlices, MeshConfig resources), kept
// by namespace/name, and what they mean to the mesh. Plain logic over the API server's JSON,
// no I/O: the watcher feeds it list bodies and watch-stream lines.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <yaml-cpp/node/node.h>

#include "config/error.h"
#include "config/model.h"

namespace am::config {

class k8s_object_set {
 public:
  enum class event { changed, bookmark, expired, error };

  // A list response (`{"kind": "...List", "metadata": {"resourceVersion"}, "items": [...]}`)
  // replaces every object. False (and `error`) when the body is no such list.
  bool reset(const std::string& list_json, std::string& resource_version, std::string& error);

  // One line of a watch stream (`{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR",
  // "object": {...}}`). `expired` is the 410 Gone that asks for a new list.
  event apply(const std::string& event_json, std::string& resource_version, std::string& error);

  const std::map<std::string, YAML::Node>& objects() const { return objects_; }

 private:
  std::map<std::string, YAML::Node> objects_;  // "namespace/name" → object
};

// EndpointSlices (discovery.k8s.io/v1) → endpoints per service, named by the slice's
// `kubernetes.io/service-name` label. Endpoints whose `conditions.ready` is false are left
// out; `zone` and `nodeName` become the labels `zone` and `node`. Slices that are not IPv4 or
// name no service are skipped, each with a message in `errors`.
endpoint_table endpoint_slices_table(const k8s_object_set& slices,
                                     std::vector<std::string>& errors);

// MeshConfig resources (actormesh.io/v1alpha1) → one mesh config document: the union of
// their `spec.services`. A service named by two resources is an error naming both.
// `source` names the resources ("k8s:ns/a,ns/b").
std::string mesh_config_document(const k8s_object_set& configs, std::string& source,
                                 std::vector<config_error>& errors);

}  // namespace am::config
