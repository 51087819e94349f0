#include "net/trace_context.h"

#include <strings.h>

#include <array>
#include <cstring>

namespace am::net {

namespace {

constexpr char digits[] = "0123456789abcdef";

// Each byte's two hex digits: formatting an id is 8 two-byte copies.
constexpr auto hex_pairs = [] {
  std::array<char, 512> t{};
  for (int i = 0; i < 256; ++i) {
    t[2 * i] = digits[i >> 4];
    t[2 * i + 1] = digits[i & 15];
  }
  return t;
}();

// Lower-case hex only (W3C forbids upper case; B3 writes lower case).
bool parse_hex(std::string_view s, uint64_t& out) {
  if (s.empty() || s.size() > 16) {
    return false;
  }
  out = 0;
  for (char c : s) {
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) {
      return false;
    }
    out = out << 4 | static_cast<uint64_t>(v);
  }
  return true;
}

// 16 or 32 hex digits, not all zero.
bool parse_trace_id(std::string_view s, trace_context& out) {
  uint64_t hi = 0, lo = 0;
  if (s.size() == 32) {
    if (!parse_hex(s.substr(0, 16), hi) || !parse_hex(s.substr(16), lo)) {
      return false;
    }
  } else if (s.size() != 16 || !parse_hex(s, lo)) {
    return false;
  }
  out.trace_hi = hi;
  out.trace_lo = lo;
  return out.has_trace();
}

bool parse_span_id(std::string_view s, uint64_t& out) {
  return s.size() == 16 && parse_hex(s, out) && out != 0;
}

// 16 hex digits at p (this runs for every request).
char* hex16(char* p, uint64_t v) {
  for (int i = 7; i >= 0; --i) {
    std::memcpy(p + 2 * i, &hex_pairs[(v & 0xff) * 2], 2);
    v >>= 8;
  }
  return p + 16;
}

void append_hex(std::string& out, uint64_t v) {
  auto n = out.size();
  out.resize(n + 16);
  hex16(out.data() + n, v);
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

bool parse_traceparent(std::string_view v, trace_context& out) {
  // version "-" trace-id "-" parent-id "-" flags: 2 + 1 + 32 + 1 + 16 + 1 + 2 = 55
  if (v.size() < 55 || v[2] != '-' || v[35] != '-' || v[52] != '-') {
    return false;
  }
  uint64_t version = 0, flags = 0;
  if (!parse_hex(v.substr(0, 2), version) || version == 0xff || (version == 0 && v.size() != 55) ||
      (v.size() > 55 && v[55] != '-')) {
    return false;
  }
  trace_context c;
  if (!parse_trace_id(v.substr(3, 32), c) || !parse_span_id(v.substr(36, 16), c.parent) ||
      !parse_hex(v.substr(53, 2), flags)) {
    return false;
  }
  c.sampled = (flags & 1) != 0;
  out = c;
  return true;
}

bool parse_b3(std::string_view v, trace_context& out) {
  auto dash = v.find('-');
  if (dash == std::string_view::npos) {
    return false;  // a sampling decision alone
  }
  trace_context c;
  if (!parse_trace_id(v.substr(0, dash), c)) {
    return false;
  }
  v.remove_prefix(dash + 1);
  dash = v.find('-');
  if (!parse_span_id(v.substr(0, dash), c.parent)) {
    return false;
  }
  if (dash != std::string_view::npos) {
    v.remove_prefix(dash + 1);
    dash = v.find('-');
    auto sampled = v.substr(0, dash);
    if (sampled != "0" && sampled != "1" && sampled != "d") {
      return false;
    }
    c.sampled = sampled != "0";
    // The caller's parent is not ours: the span above is.
  }
  out = c;
  return true;
}

bool parse_b3_multi(std::string_view trace_id, std::string_view span_id, std::string_view sampled,
                    trace_context& out) {
  trace_context c;
  if (!parse_trace_id(trace_id, c) || !parse_span_id(span_id, c.parent)) {
    return false;
  }
  c.sampled = sampled != "0" && !iequals(sampled, "false");
  out = c;
  return true;
}

void format_trace_id(const trace_context& c, std::string& out) {
  out.clear();
  append_hex(out, c.trace_hi);
  append_hex(out, c.trace_lo);
}

void format_span_id(uint64_t span, std::string& out) {
  out.clear();
  append_hex(out, span);
}

void format_traceparent(const trace_context& c, std::string& out) {
  out.resize(55);  // "00-" trace "-" span "-" flags
  char* p = out.data();
  *p++ = '0';
  *p++ = '0';
  *p++ = '-';
  p = hex16(hex16(p, c.trace_hi), c.trace_lo);
  *p++ = '-';
  p = hex16(p, c.span);
  *p++ = '-';
  *p++ = '0';
  *p = c.sampled ? '1' : '0';
}

void format_b3(const trace_context& c, std::string& out) {
  out.clear();
  append_hex(out, c.trace_hi);
  append_hex(out, c.trace_lo);
  out += '-';
  append_hex(out, c.span);
  out += c.sampled ? "-1" : "-0";
  if (c.parent != 0) {
    out += '-';
    append_hex(out, c.parent);
  }
}

void hop_trace::format(b3_format how) {
  b3 = how;
  format_traceparent(context, traceparent);
  if (b3 == b3_format::single) {
    format_b3(context, b3_single);
  }
  if (context.parent != 0) {
    format_span_id(context.parent, parent_id);
  } else {
    parent_id.clear();
  }
}

bool is_trace_field(std::string_view name) {
  if (name.size() < 2) {
    return false;
  }
  switch (name[0] | 0x20) {
    case 't':
      return iequals(name, "traceparent");
    case 'b':
      return iequals(name, "b3");
    case 'x':
      return name.size() > 5 && iequals(name.substr(0, 5), "x-b3-") && !iequals(name, "x-b3-flags");
    default:
      return false;
  }
}

}  // namespace am::net
