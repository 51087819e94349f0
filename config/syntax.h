// What a config may name: services, and the header names, values and methods it writes into
// requests and responses (RFC 9110 §5.1, §5.5, §9.1), where a value with CR or LF would
// inject fields of its own.
#pragma once

#include <string_view>

namespace am::config {

// A service name: 1 to 63 letters, digits, '-', '.' or '_'.
inline bool valid_service_name(std::string_view s) {
  if (s.empty() || s.size() > 63) {
    return false;
  }
  for (char c : s) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return true;
}

// `s` without the optional white space (spaces, tabs) around it (RFC 9110 §5.6.3 OWS).
inline std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

// A token (RFC 9110 §5.6.2 tchar): field names and methods ("!#$%&'*+-.^_`|~", digits,
// letters), not empty.
inline bool is_http_token(std::string_view s) {
  if (s.empty()) {
    return false;
  }
  for (char c : s) {
    bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view{"!#$%&'*+-.^_`|~"}.find(c) == std::string_view::npos) {
      return false;
    }
  }
  return true;
}

// A field value: visible characters, spaces and tabs (obs-text allowed), no CR, LF or NUL nor
// other control characters, no leading or trailing white space.
inline bool is_http_field_value(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) {
      return false;
    }
  }
  return s.empty() ||
         (s.front() != ' ' && s.front() != '\t' && s.back() != ' ' && s.back() != '\t');
}

}  // namespace am::config
