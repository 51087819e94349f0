// An HTTP/1.1 message head as the parser delivers it, and the header rules a proxy applies
// (RFC 9110 §7.6.1 hop-by-hop fields, RFC 9112 §6 framing).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace am::net {

struct header_field {
  std::string name;
  std::string value;
};

struct message_head {
  // Request: method and target; response: status and reason.
  std::string method;
  std::string target;
  int status = 0;
  std::string reason;
  int version_minor = 1;  // HTTP/1.<minor>
  bool keep_alive = true;
  bool upgrade = false;  // a protocol switch (Upgrade or CONNECT) was requested / accepted

  // Framing, checked by the parser.
  bool chunked = false;
  bool has_content_length = false;
  uint64_t content_length = 0;

  // Only the first `count` entries are live; the rest keep their capacity for reuse.
  std::vector<header_field> fields;
  size_t count = 0;

  void reset();
  const std::string* find(std::string_view name) const;  // case-insensitive
};

// ASCII case-insensitive equality, inline: header names are compared several times per
// request, and libc's locale-aware tolower() showed up in profiles.
inline bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] | 0x20) : a[i];
    char y = b[i] >= 'A' && b[i] <= 'Z' ? static_cast<char>(b[i] | 0x20) : b[i];
    if (x != y) {
      return false;
    }
  }
  return true;
}

// `out` = `name` in lower case (HTTP/2 field names).
inline void assign_lower(std::string& out, std::string_view name) {
  out.assign(name);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') {
      c = static_cast<char>(c | 0x20);
    }
  }
}

// Whether the field must not be forwarded (hop-by-hop, or named in `Connection`).
bool is_hop_by_hop(const message_head& head, std::string_view name);
// The same with the head's Connection value looked up once (null when absent).
bool is_hop_by_hop(const std::string* connection, std::string_view name);

// Writes each end-to-end field of `head` as "Name: value\r\n".
void append_end_to_end_fields(const message_head& head, std::string& out);

// Appends `v` in decimal / in hex (chunk sizes), without printf.
void append_decimal(std::string& out, uint64_t v);
void append_hex(std::string& out, uint64_t v);

// Splits an absolute-form target "http://host[:port]/path?q" into authority and
// origin-form path; false when it is not absolute-form http.
bool split_absolute_form(std::string_view target, std::string_view& authority,
                         std::string_view& path);

// Splits "host[:port]" into host and port (default `default_port`); false on a bad port.
bool split_authority(std::string_view authority, uint16_t default_port, std::string_view& host,
                     uint16_t& port);

}  // namespace am::net
