// The YAML walker the config parsers share: it tracks the field path, collects errors instead
// of stopping at the first, and reports keys nobody asked for.
#pragma once

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <charconv>
#include <set>
#include <string>
#include <string_view>
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
    const auto& s = n.IsScalar() ? n.Scalar() : std::string{};
    if (auto error = parse_uint(s, min, max, out); !error.empty()) {
      fail(child_path(key), error);
    }
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

  void read_ipv4(const std::string& key, std::string& out) { read_ip(key, AF_INET, out); }
  void read_ipv6(const std::string& key, std::string& out) { read_ip(key, AF_INET6, out); }

  // A numeric IPv4 address or a DNS name (a Kubernetes Service's, resolved when connecting).
  void read_host(const std::string& key, std::string& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    auto value = n.IsScalar() ? n.Scalar() : std::string{};
    if (!parse_ip(value, AF_INET).empty() && !is_dns_name(value)) {
      fail(child_path(key), "must be a numeric IPv4 address or a DNS name, got '" + value + "'");
      return;
    }
    out = value;
  }

  // RFC 1123: dot-separated labels of letters, digits and inner hyphens, 63 characters each
  // at most, 253 in all; a trailing dot (fully qualified) allowed.
  static bool is_dns_name(std::string_view s) {
    if (!s.empty() && s.back() == '.') {
      s.remove_suffix(1);
    }
    if (s.empty() || s.size() > 253) {
      return false;
    }
    size_t label = 0;
    for (size_t i = 0; i <= s.size(); ++i) {
      if (i == s.size() || s[i] == '.') {
        if (label == 0 || label > 63 || s[i - 1] == '-') {
          return false;
        }
        label = 0;
        continue;
      }
      char c = s[i];
      bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && !(c == '-' && label > 0)) {
        return false;
      }
      ++label;
    }
    return true;
  }

  void read_ipv4_list(const std::string& key, std::vector<std::string>& out) {
    read_list(key, "IPv4 addresses", [&](const std::string& v) {
      auto error = parse_ip(v, AF_INET);
      if (error.empty()) {
        out.push_back(v);
      }
      return error;
    });
  }

  void read_port_list(const std::string& key, std::vector<uint16_t>& out) {
    read_list(key, "ports", [&](const std::string& v) {
      uint16_t port = 0;
      auto error = parse_uint(v, 1, 65535, port);
      if (error.empty()) {
        out.push_back(port);
      }
      return error;
    });
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
  // An unsigned integer in [min, max], or why not (empty when it is one).
  template <class Int>
  static std::string parse_uint(const std::string& s, uint64_t min, uint64_t max, Int& out) {
    uint64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc{} || end != s.data() + s.size() || v < min || v > max) {
      return "must be " + std::to_string(min) + ".." + std::to_string(max) + ", got '" + s + "'";
    }
    out = static_cast<Int>(v);
    return {};
  }

  // A numeric address of `family` (AF_INET, AF_INET6), or why not.
  static std::string parse_ip(const std::string& s, int family) {
    unsigned char buf[sizeof(in6_addr)];
    if (inet_pton(family, s.c_str(), buf) == 1) {
      return {};
    }
    return family == AF_INET ? "must be a numeric IPv4 address" : "must be a numeric IPv6 address";
  }

  void read_ip(const std::string& key, int family, std::string& out) {
    auto n = get(key);
    if (!n) {
      return;
    }
    auto error = parse_ip(n.IsScalar() ? n.Scalar() : std::string{}, family);
    if (!error.empty()) {
      fail(child_path(key), error);
      return;
    }
    out = n.Scalar();
  }

  // Each item of a list checked by `item` (which returns why it is bad, or nothing), errors
  // reported with the item's index.
  template <class Item>
  void read_list(const std::string& key, const char* items, Item item) {
    auto n = get(key);
    if (!n) {
      return;
    }
    if (!n.IsSequence()) {
      fail(child_path(key), std::string{"must be a list of "} + items);
      return;
    }
    for (size_t i = 0; i < n.size(); ++i) {
      auto error = item(n[i].IsScalar() ? n[i].Scalar() : std::string{});
      if (!error.empty()) {
        fail(child_path(key) + "[" + std::to_string(i) + "]", error);
      }
    }
  }

  YAML::Node node_;
  std::string path_;
  std::vector<config_error>& errors_;
  std::set<std::string> known_;
};

}  // namespace detail
}  // namespace am::config
