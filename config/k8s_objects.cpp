#include "config/k8s_objects.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

namespace am::config {

namespace {

// JSON is YAML: yaml-cpp reads the API server's bodies.
bool load_json(const std::string& text, YAML::Node& out, std::string& error) {
  try {
    out = YAML::Load(text);
    return true;
  } catch (const YAML::Exception& e) {
    error = "not JSON: " + e.msg;
    return false;
  }
}

// The node at `path` under `n`, or an undefined node when any step is missing (yaml-cpp
// throws when indexing into a missing node).
YAML::Node at(const YAML::Node& n, std::initializer_list<const char*> path) {
  YAML::Node cur = n;
  for (const char* key : path) {
    const YAML::Node& look = cur;  // const lookups never add the key
    if (!look || !look.IsMap() || !look[key]) {
      return YAML::Node{YAML::NodeType::Undefined};
    }
    cur.reset(look[key]);  // rebinds; `cur = ...` would overwrite the node it refers to
  }
  return cur;
}

std::string scalar(const YAML::Node& n, std::initializer_list<const char*> path = {}) {
  auto v = at(n, path);
  return v && v.IsScalar() ? v.Scalar() : std::string{};
}

std::string object_key(const YAML::Node& object) {
  return scalar(object, {"metadata", "namespace"}) + "/" + scalar(object, {"metadata", "name"});
}

bool is_ipv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

}  // namespace

bool k8s_object_set::reset(const std::string& list_json, std::string& resource_version,
                           std::string& error) {
  YAML::Node list;
  if (!load_json(list_json, list, error)) {
    return false;
  }
  auto items = at(list, {"items"});
  if (!items || !items.IsSequence()) {
    error = "a list response needs an items array";
    return false;
  }
  objects_.clear();
  for (size_t i = 0; i < items.size(); ++i) {
    YAML::Node item = items[i];
    objects_[object_key(item)] = item;
  }
  resource_version = scalar(list, {"metadata", "resourceVersion"});
  return true;
}

k8s_object_set::event k8s_object_set::apply(const std::string& event_json,
                                            std::string& resource_version, std::string& error) {
  YAML::Node ev;
  if (!load_json(event_json, ev, error)) {
    return event::error;
  }
  auto type = scalar(ev, {"type"});
  auto object = at(ev, {"object"});
  if (!object || !object.IsMap()) {
    error = "a watch event needs an object";
    return event::error;
  }
  if (type == "ERROR") {
    if (scalar(object, {"code"}) == "410") {
      return event::expired;
    }
    error = "watch error: " + scalar(object, {"message"});
    return event::error;
  }
  auto version = scalar(object, {"metadata", "resourceVersion"});
  if (!version.empty()) {
    resource_version = version;
  }
  if (type == "BOOKMARK") {
    return event::bookmark;
  }
  if (type == "ADDED" || type == "MODIFIED") {
    objects_[object_key(object)] = object;
  } else if (type == "DELETED") {
    objects_.erase(object_key(object));
  } else {
    error = "unknown watch event type '" + type + "'";
    return event::error;
  }
  return event::changed;
}

endpoint_table endpoint_slices_table(const k8s_object_set& slices,
                                     std::vector<std::string>& errors) {
  endpoint_table out;
  for (const auto& [key, slice] : slices.objects()) {
    auto service = scalar(slice, {"metadata", "labels", "kubernetes.io/service-name"});
    if (service.empty()) {
      errors.push_back(key + ": no kubernetes.io/service-name label");
      continue;
    }
    if (scalar(slice, {"addressType"}) != "IPv4") {
      errors.push_back(key + ": addressType " + scalar(slice, {"addressType"}) +
                       " (only IPv4 is supported)");
      continue;
    }
    auto ports = at(slice, {"ports"});
    uint16_t port = 0;
    if (ports && ports.IsSequence() && ports.size() > 0) {
      port = at(ports[0], {"port"}).as<uint16_t>(0);
    }
    auto& list = out[service];  // a slice with no ready endpoint still names its service
    if (port == 0) {
      errors.push_back(key + ": no port");
      continue;
    }
    auto endpoints = at(slice, {"endpoints"});
    for (size_t i = 0; endpoints.IsSequence() && i < endpoints.size(); ++i) {
      YAML::Node ep = endpoints[i];
      if (scalar(ep, {"conditions", "ready"}) == "false") {
        continue;
      }
      auto addresses = at(ep, {"addresses"});
      for (size_t j = 0; addresses.IsSequence() && j < addresses.size(); ++j) {
        YAML::Node address = addresses[j];
        if (!is_ipv4(scalar(address))) {
          continue;
        }
        endpoint e;
        e.address = address.Scalar();
        e.port = port;
        if (auto zone = scalar(ep, {"zone"}); !zone.empty()) {
          e.labels["zone"] = zone;
        }
        if (auto node_name = scalar(ep, {"nodeName"}); !node_name.empty()) {
          e.labels["node"] = node_name;
        }
        list.push_back(std::move(e));
      }
    }
  }
  return out;
}

std::string mesh_config_document(const k8s_object_set& configs, std::string& source,
                                 std::vector<config_error>& errors) {
  YAML::Node services{YAML::NodeType::Map};
  std::map<std::string, std::string> owner;  // service → resource that names it
  source = "k8s:";
  for (const auto& [key, object] : configs.objects()) {
    source += (source.size() > 4 ? "," : "") + key;
    auto spec = at(object, {"spec", "services"});
    if (!spec) {
      continue;
    }
    if (!spec.IsMap()) {
      errors.push_back({key + ".spec.services", "must be a mapping of service names"});
      continue;
    }
    for (const auto& kv : spec) {
      auto name = kv.first.Scalar();
      auto [it, inserted] = owner.emplace(name, key);
      if (!inserted) {
        errors.push_back(
            {key + ".spec.services." + name, "also defined by MeshConfig " + it->second});
        continue;
      }
      services[name] = YAML::Node{kv.second};
    }
  }
  YAML::Node doc;
  doc["services"] = services;
  YAML::Emitter emitter;
  emitter << doc;
  return std::string{emitter.c_str()} + "\n";
}

}  // namespace am::config
