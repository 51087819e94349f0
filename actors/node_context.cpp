#include "actors/node_context.h"

#include "config/json.h"

namespace am::actors {

void node_status::set_endpoints(uint64_t version, std::string json) {
  std::lock_guard<std::mutex> guard{mutex_};
  endpoints_version_ = version;
  endpoints_json_ = std::move(json);
}

void node_status::set_services(uint64_t version) {
  std::lock_guard<std::mutex> guard{mutex_};
  services_version_ = version;
}

void node_status::set_workers_running(bool running) {
  std::lock_guard<std::mutex> guard{mutex_};
  workers_running_ = running;
}

void node_status::set_draining() {
  std::lock_guard<std::mutex> guard{mutex_};
  draining_ = true;
}

void node_status::set_control_plane(bool connected) {
  std::lock_guard<std::mutex> guard{mutex_};
  control_plane_ = connected ? 1 : 0;
}

int node_status::control_plane_connected() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return control_plane_;
}

void node_status::set_config_version(uint64_t version) {
  std::lock_guard<std::mutex> guard{mutex_};
  gauges_.config_version = static_cast<int64_t>(version);
}

void node_status::set_discovery_version(uint64_t version) {
  std::lock_guard<std::mutex> guard{mutex_};
  discovery_version_ = version;
}

void node_status::set_sidecars(int64_t connected, int64_t disconnected, int64_t behind) {
  std::lock_guard<std::mutex> guard{mutex_};
  gauges_.sidecars_connected = connected;
  gauges_.sidecars_disconnected = disconnected;
  gauges_.sidecars_behind = behind;
}

control_plane_gauges node_status::control_plane() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return gauges_;
}

bool node_status::ready(std::string& why) const {
  std::lock_guard<std::mutex> guard{mutex_};
  if (draining_) {
    why = "draining";
  } else if (!roles_.sidecar) {
    if (roles_.commander && gauges_.config_version <= 0) {
      why = "no config version yet";
    } else if (roles_.discovery && discovery_version_ == 0) {
      why = "no endpoint table yet";
    } else {
      why = "ready";
      return true;
    }
  } else if (!workers_running_) {
    why = "workers not running";
  } else if (services_version_ == 0) {
    why = "no service config yet";
  } else if (endpoints_version_ == 0) {
    why = "no endpoints yet";
  } else {
    // Without its control plane a sidecar still serves what it knows: ready, and it says so.
    why = control_plane_ == 0 ? "ready (control plane disconnected: serving the last known config)"
                              : "ready";
    return true;
  }
  return false;
}

bool node_status::draining() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return draining_;
}

void node_status::set_global_weights(weights_by_service weights) {
  std::lock_guard<std::mutex> guard{mutex_};
  global_weights_ = std::move(weights);
}

node_status::weights_by_service node_status::global_weights() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return global_weights_;
}

std::string node_status::endpoints_json() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return endpoints_json_;
}

uint64_t node_status::endpoints_version() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return endpoints_version_;
}

void node_status::set_federation(federation_status status) {
  std::lock_guard<std::mutex> guard{mutex_};
  federation_ = std::move(status);
}

federation_status node_status::federation() const {
  std::lock_guard<std::mutex> guard{mutex_};
  return federation_;
}

std::string to_json(const federation_status& f) {
  if (f.cluster.empty()) {
    return "null";
  }
  std::string out = "{\"cluster\":";
  config::append_json_string(out, f.cluster);
  out += ",\"exported\":[";
  for (size_t i = 0; i < f.exported.size(); ++i) {
    out += i > 0 ? "," : "";
    config::append_json_string(out, f.exported[i]);
  }
  out += "],\"peers\":[";
  for (size_t i = 0; i < f.peers.size(); ++i) {
    const auto& p = f.peers[i];
    out += i > 0 ? ",{\"name\":" : "{\"name\":";
    config::append_json_string(out, p.name);
    out += ",\"address\":";
    config::append_json_string(out, p.address);
    out += std::string{",\"connected\":"} + (p.connected ? "true" : "false") +
           ",\"up\":" + (p.up ? "true" : "false") + ",\"stale\":" + (p.stale ? "true" : "false") +
           ",\"last_heard_unix_ms\":" + std::to_string(p.last_heard_unix_ms) +
           ",\"rtt_us\":" + std::to_string(p.rtt_us) + ",\"imported\":{";
    bool first = true;
    for (const auto& [service, n] : p.imported) {
      out += first ? "" : ",";
      first = false;
      config::append_json_string(out, service);
      out += ":" + std::to_string(n);
    }
    out += "}}";
  }
  return out + "]}";
}

}  // namespace am::actors
