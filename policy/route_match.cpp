#include "policy/route_match.h"

#include <re2/re2.h>

#include <algorithm>

namespace am::policy {

uint64_t stable_hash(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') {
    s.remove_prefix(1);
  }
  while (!s.empty() && s.back() == ' ') {
    s.remove_suffix(1);
  }
  return s;
}

}  // namespace

bool matches(const config::string_match& m, std::string_view value) {
  using kind = config::string_match::kind;
  switch (m.how) {
    case kind::present:
      return true;
    case kind::exact:
      return value == m.value;
    case kind::prefix:
      return value.substr(0, m.value.size()) == m.value;
    case kind::regex:
      return RE2::FullMatch(re2::StringPiece{value.data(), value.size()}, *m.regex);
  }
  return false;
}

bool matches(const config::string_match& m, const std::string* value) {
  return value != nullptr && matches(m, std::string_view{*value});
}

bool query_param(std::string_view query, std::string_view name, std::string_view& value) {
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    auto eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      value = eq == std::string_view::npos ? std::string_view{} : pair.substr(eq + 1);
      return true;
    }
    if (amp == std::string_view::npos) {
      break;
    }
    query.remove_prefix(amp + 1);
  }
  return false;
}

bool cookie_value(std::string_view cookie_header, std::string_view name, std::string_view& value) {
  while (!cookie_header.empty()) {
    auto semi = cookie_header.find(';');
    auto pair = trim(cookie_header.substr(0, semi));
    auto eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      value = pair.substr(eq + 1);
      return true;
    }
    if (semi == std::string_view::npos) {
      break;
    }
    cookie_header.remove_prefix(semi + 1);
  }
  return false;
}

bool matches(const config::route_spec& route, const request_view& request) {
  if (route.path && !matches(*route.path, request.path)) {
    return false;
  }
  if (!route.methods.empty() && std::find(route.methods.begin(), route.methods.end(),
                                          request.method) == route.methods.end()) {
    return false;
  }
  for (const auto& h : route.headers) {
    if (!matches(h.match, request.headers != nullptr ? request.headers->find(h.name) : nullptr)) {
      return false;
    }
  }
  for (const auto& q : route.query) {
    std::string_view v;
    if (!query_param(request.query, q.name, v) || !matches(q.match, v)) {
      return false;
    }
  }
  return true;
}

const config::route_spec* match_route(const std::vector<config::route_spec>& routes,
                                      const request_view& request) {
  for (const auto& r : routes) {
    if (matches(r, request)) {
      return &r;
    }
  }
  return nullptr;
}

std::string_view sticky_key(const config::route_spec& route, const request_view& request) {
  if (!route.hash_header.empty() && request.headers != nullptr) {
    if (const auto* v = request.headers->find(route.hash_header)) {
      return *v;
    }
  }
  if (!route.hash_cookie.empty() && request.headers != nullptr) {
    std::string_view v;
    const auto* cookies = request.headers->find("cookie");
    if (cookies != nullptr && cookie_value(*cookies, route.hash_cookie, v)) {
      return v;
    }
  }
  return {};
}

size_t choose_target(const config::route_spec& route, std::string_view key, uint64_t random) {
  uint64_t total = 0;
  for (const auto& t : route.targets) {
    total += t.weight;
  }
  if (route.targets.size() <= 1 || total == 0) {
    return 0;
  }
  auto point = (key.empty() ? random : stable_hash(key)) % total;
  for (size_t i = 0; i < route.targets.size(); ++i) {
    if (point < route.targets[i].weight) {
      return i;
    }
    point -= route.targets[i].weight;
  }
  return route.targets.size() - 1;
}

}  // namespace am::policy
