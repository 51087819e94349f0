#include "net/http1_message.h"

#include <charconv>
#include <span>

namespace am::net {

void message_head::reset() {
  method.clear();
  target.clear();
  status = 0;
  reason.clear();
  version_minor = 1;
  keep_alive = true;
  upgrade = false;
  chunked = false;
  has_content_length = false;
  content_length = 0;
  count = 0;
}

const std::string* message_head::find(std::string_view name) const {
  for (size_t i = 0; i < count; ++i) {
    if (iequals(fields[i].name, name)) {
      return &fields[i].value;
    }
  }
  return nullptr;
}

namespace {

// RFC 9110 §7.6.1 plus the proxy-specific fields that never travel past one hop.
constexpr std::string_view hop_by_hop_fields[] = {"connection",
                                                  "keep-alive",
                                                  "proxy-connection",
                                                  "te",
                                                  "trailer",
                                                  "transfer-encoding",
                                                  "upgrade",
                                                  "proxy-authorization",
                                                  "proxy-authenticate",
                                                  "content-length"};

// The lengths of those names, one bit each: most fields are ruled out by their length alone.
constexpr uint32_t hop_by_hop_lengths = [] {
  uint32_t mask = 0;
  for (auto h : hop_by_hop_fields) {
    mask |= 1u << h.size();
  }
  return mask;
}();

// Whether `name` appears in the comma-separated `list`.
bool list_contains(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) {
      item.remove_prefix(1);
    }
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) {
      item.remove_suffix(1);
    }
    if (iequals(item, name)) {
      return true;
    }
    if (comma == std::string_view::npos) {
      break;
    }
    list.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace

bool is_hop_by_hop(const message_head& head, std::string_view name) {
  return is_hop_by_hop(head.find("connection"), name);
}

bool is_hop_by_hop(const std::string* connection, std::string_view name) {
  // content-length is listed because the proxy writes framing itself.
  bool possible = name.size() < 32 && (hop_by_hop_lengths & (1u << name.size())) != 0;
  for (auto h : possible ? std::span{hop_by_hop_fields} : std::span<const std::string_view>{}) {
    if (iequals(h, name)) {
      return true;
    }
  }
  return connection != nullptr && list_contains(*connection, name);
}

void append_end_to_end_fields(const message_head& head, std::string& out) {
  const auto* connection = head.find("connection");
  for (size_t i = 0; i < head.count; ++i) {
    const auto& f = head.fields[i];
    if (is_hop_by_hop(connection, f.name)) {
      continue;
    }
    out += f.name;
    out += ": ";
    out += f.value;
    out += "\r\n";
  }
}

void append_decimal(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void append_hex(std::string& out, uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append(buf, end);
}

bool split_absolute_form(std::string_view target, std::string_view& authority,
                         std::string_view& path) {
  constexpr std::string_view scheme = "http://";
  if (target.size() < scheme.size() || !iequals(target.substr(0, scheme.size()), scheme)) {
    return false;
  }
  auto rest = target.substr(scheme.size());
  auto slash = rest.find_first_of("/?");
  authority = rest.substr(0, slash);
  path = slash == std::string_view::npos ? std::string_view{"/"} : rest.substr(slash);
  // "http://host?q" has an empty path: RFC 9112 §3.2.1 makes it "/?q", which a view can't
  // express; such targets are rare enough to reject as bad requests.
  if (!path.empty() && path.front() == '?') {
    return false;
  }
  return !authority.empty();
}

bool split_authority(std::string_view authority, uint16_t default_port, std::string_view& host,
                     uint16_t& port) {
  auto at = authority.rfind('@');
  if (at != std::string_view::npos) {
    authority.remove_prefix(at + 1);  // userinfo is never forwarded
  }
  auto colon = authority.rfind(':');
  if (colon == std::string_view::npos || authority.find(']') != std::string_view::npos) {
    host = authority;
    port = default_port;
    return !host.empty();
  }
  host = authority.substr(0, colon);
  auto digits = authority.substr(colon + 1);
  unsigned v = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || v == 0 ||
      v > 65535) {
    return false;
  }
  port = static_cast<uint16_t>(v);
  return !host.empty();
}

}  // namespace am::net
