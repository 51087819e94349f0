// What one cluster's federation gateway tells its peers about a service it exports. A plain
// struct: federation/ holds the logic, actors/messages.h lets it cross the middleman.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace am::config {

struct exported_service {
  std::string name;
  // The exporting cluster's ingress listener: where a peer's sidecars send its requests.
  std::string address;
  uint16_t port = 0;
  // Its own endpoints behind the ingress (0: exported, but nothing serves it there now).
  uint32_t endpoints = 0;
  std::vector<std::string> zones;  // where they run, as their labels say
  bool tls = false;                // the ingress speaks mesh TLS (the exporter has a certificate)

  friend bool operator==(const exported_service&, const exported_service&) = default;
};

using export_list = std::vector<exported_service>;

}  // namespace am::config
