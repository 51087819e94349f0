// The endpoints an etcd key space describes: each key `<prefix><service>/<id>` holds one
// endpoint as JSON ({"address": "10.0.0.7", "port": 8080, "weight": 1, "labels": {...}}).
// Plain logic, no gRPC: the etcd source actor feeds it listings and watch events.
#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "config/model.h"

namespace am::config {

// One key's change, as a watch event or a listing entry reports it.
struct etcd_change {
  bool deleted = false;
  std::string key;
  std::string value;
};

class etcd_endpoint_view {
 public:
  explicit etcd_endpoint_view(std::string prefix) : prefix_(std::move(prefix)) {}

  // Replaces the whole view with a listing. Keys that hold no valid endpoint are skipped,
  // each with a message in `errors`.
  void reset(const std::vector<etcd_change>& listing, std::vector<std::string>& errors);

  // Applies watch events in order. A put of an invalid value keeps the key's previous
  // endpoint (and reports why); a delete removes it.
  void apply(const std::vector<etcd_change>& events, std::vector<std::string>& errors);

  endpoint_table table() const;

 private:
  bool put(const std::string& key, const std::string& value, std::string& error);

  std::string prefix_;
  std::map<std::string, std::pair<std::string, endpoint>> by_key_;  // key → service, endpoint
};

// The range_end that makes an etcd Range or Watch cover every key starting with `prefix`.
std::string etcd_prefix_end(const std::string& prefix);

}  // namespace am::config
