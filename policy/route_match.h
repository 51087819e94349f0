// Route matching and target choice for one service: the first route whose every condition
// holds decides; its targets split traffic by weight, sticky per user when a hash key
// (header or cookie) is configured, so a user stays on one version.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "config/policy_model.h"
#include "policy/header_source.h"

namespace am::policy {

struct request_view {
  std::string_view method;
  std::string_view path;   // without the query
  std::string_view query;  // after '?', without it
  const header_source* headers = nullptr;
};

bool matches(const config::string_match& m, std::string_view value);
bool matches(const config::string_match& m, const std::string* value);  // false when absent
bool matches(const config::route_spec& route, const request_view& request);

// The first matching route, or null.
const config::route_spec* match_route(const std::vector<config::route_spec>& routes,
                                      const request_view& request);

// The value of query parameter `name` (not percent-decoded); false when absent.
bool query_param(std::string_view query, std::string_view name, std::string_view& value);

// The value of cookie `name` in a Cookie header; false when absent.
bool cookie_value(std::string_view cookie_header, std::string_view name, std::string_view& value);

// FNV-1a: stable across processes and versions, so a user's target (or endpoint) does not
// move when a sidecar restarts, and every sidecar hashes a key alike.
uint64_t stable_hash(std::string_view s);

// Which of the route's targets serves this request. `sticky_key` (the hash header's or
// cookie's value, empty when none) picks deterministically; otherwise `random` does.
size_t choose_target(const config::route_spec& route, std::string_view sticky_key, uint64_t random);

// The sticky key of a request for this route: its hash header or cookie value, or empty.
std::string_view sticky_key(const config::route_spec& route, const request_view& request);

}  // namespace am::policy
