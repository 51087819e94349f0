// The YAML walker the config parsers share: it tracks the field path, collects errors instead
// of stopping at the first, and reports keys nobody asked for.
#pragma once

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <set>
#include <string>
#include <vector>

#include "config/error.h"
#include "config/model.h"

namespace am::config {

bool parse_duration(const std::string& text, millis& out);

namespace detail {

// Walks one YAML mapping, remembering its path, collecting errors and flagging unknown keys
// (a typo in a key must not be silently ignored).
class reader {
 public:
  reader(const YAML::Node& node, std::string path, std::vector<config_error>& errors)
      : node_(node), path_(std::move(path)), errors_(errors) {}

  const std::string& path() const { return path_; }
  std::vector<config_error>& errors() { return errors_; }
  const YAML::Node& node() const { return node_; }
  bool exists() const { return static_cast<bool>(node_); }

  bool is_map() {
    if (node_ && !node_.IsMap() && !node_.IsNull()) {
      fail(path_, "must be a mapping");
      return false;
    }
    return true;
  }

  std::string child_path(const std::string& key) const {
    return path_.empty() ? key : path_ + "." + key;
  }

  YAML::Node get(const std::string& key) {
    known_.insert(key);
    if (!node_ || !node_.IsMap()) {
      return YAML::Node{YAML::NodeType::Undefined};
    }
    const YAML::Node& map = node_;  // const lookup: never inserts the key
    return map[key];
  }

  // A reader for the mapping under `key`, sharing this reader's error list.
  reader child(const std::string& key) { return reader{get(key), child_path(key), errors_}; }

  void fail(const std::string& path, const std::string& reason) {
    errors_.push_back({path, reason});
  }

  void read_string(const std::string& key, std::string& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    if (!n.IsScalar()) {
      fail(child_path(key), "must be a string");
      return;
    }
    out = n.Scalar();
  }

  void read_bool(const std::string& key, bool& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, out)) {
      fail(child_path(key), "must be true or false");
    }
  }

  template <class Int>
  void read_uint(const std::string& key, Int& out, uint64_t min, uint64_t max) {
    auto n = get(key);
    if (!n) {
      return;
    }
    uint64_t v = 0;
    const auto& s = n.IsScalar() ? n.Scalar() : std::string{};
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) {
      fail(child_path(key),
           "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got '" + s + "'");
      return;
    }
    out = static_cast<Int>(v);
  }

  void read_duration(const std::string& key, millis& out, millis min) {
    auto n = get(key);
    if (!n) {
      return;
    }
    millis v{};
    if (!n.IsScalar() || !parse_duration(n.Scalar(), v)) {
      fail(child_path(key), "must be a duration such as 250ms, 5s or 2m");
      return;
    }
    if (v < min) {
      fail(child_path(key), "must be at least " + std::to_string(min.count()) + "ms");
      return;
    }
    out = v;
  }

  void read_ipv4(const std::string& key, std::string& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    in_addr a{};
    if (!n.IsScalar() || inet_pton(AF_INET, n.Scalar().c_str(), &a) != 1) {
      fail(child_path(key), "must be a numeric IPv4 address");
      return;
    }
    out = n.Scalar();
  }

  void read_ipv6(const std::string& key, std::string& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    in6_addr a{};
    if (!n.IsScalar() || inet_pton(AF_INET6, n.Scalar().c_str(), &a) != 1) {
      fail(child_path(key), "must be a numeric IPv6 address");
      return;
    }
    out = n.Scalar();
  }

  // A list of numeric IPv4 addresses; each bad one is reported with its index.
  void read_ipv4_list(const std::string& key, std::vector<std::string>& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    if (!n.IsSequence()) {
      fail(child_path(key), "must be a list of IPv4 addresses");
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      in_addr a{};
      const auto& v = n[i].IsScalar() ? n[i].Scalar() : std::string{};
      if (inet_pton(AF_INET, v.c_str(), &a) != 1) {
        fail(child_path(key) + "[" + std::to_string(i) + "]", "must be a numeric IPv4 address");
        continue;
      }
      out.push_back(v);
    }
  }

  // A list of TCP ports (1..65535); each bad one is reported with its index.
  void read_port_list(const std::string& key, std::vector<uint16_t>& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    if (!n.IsSequence()) {
      fail(child_path(key), "must be a list of ports");
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      uint64_t v = 0;
      const auto& s = n[i].IsScalar() ? n[i].Scalar() : std::string{};
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
      if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < 1 || v > 65535) {
        fail(child_path(key) + "[" + std::to_string(i) + "]", "must be 1..65535, got '" + s + "'");
        continue;
      }
      out.push_back(static_cast<uint16_t>(v));
    }
  }

  void read_string_list(const std::string& key, std::vector<std::string>& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    if (!n.IsSequence()) {
      fail(child_path(key), "must be a list of service names");
      return;
    }
    for (const auto& v : n) {
      out.push_back(v.IsScalar() ? v.Scalar() : std::string{});
    }
  }

  // Reports every key of the mapping that no read_* call asked for.
  void reject_unknown_keys() {
    if (!node_ || !node_.IsMap()) {
      return;
    }
    for (const auto& kv : node_) {
      auto key = kv.first.Scalar();
      if (!known_.count(key)) {
        fail(child_path(key), "unknown field");
      }
    }
  }

 private:
  YAML::Node node_;
  std::string path_;
  std::vector<config_error>& errors_;
  std::set<std::string> known_;
};

}  // namespace detail
}  // namespace am::config
