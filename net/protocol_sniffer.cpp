#include "net/protocol_sniffer.h"

#include <algorithm>
#include <cstdint>

namespace am::net {

namespace {

constexpr std::string_view h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
// The longest method a request line may start with before the detector calls it opaque
// (registered methods are at most 17 characters: UPDATEREDIRECTREF).
constexpr size_t max_method = 20;

bool is_method_char(char c) {
  return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

// "METHOD SP target...": the method in capitals, then a target that starts as one does.
sniffed_protocol sniff_http1(std::string_view b) {
  size_t i = 0;
  while (i < b.size() && i <= max_method && is_method_char(b[i])) {
    ++i;
  }
  if (i > max_method) {
    return sniffed_protocol::opaque;  // no method is this long, whatever follows
  }
  if (i == b.size()) {
    return sniffed_protocol::undecided;
  }
  if (i == 0 || b[i] != ' ') {
    return sniffed_protocol::opaque;
  }
  if (i + 1 == b.size()) {
    return sniffed_protocol::undecided;
  }
  char first = b[i + 1];
  bool target = first == '/' || first == '*' || (first >= 'a' && first <= 'z') ||
                (first >= 'A' && first <= 'Z') || (first >= '0' && first <= '9') || first == '[';
  return target ? sniffed_protocol::http1 : sniffed_protocol::opaque;
}

// Reads big-endian integers from a ClientHello, never past its end.
class reader {
 public:
  explicit reader(std::string_view b) : b_(b) {}
  bool skip(size_t n) {
    if (b_.size() - at_ < n) {
      return false;
    }
    at_ += n;
    return true;
  }
  bool read(size_t bytes, uint32_t& out) {
    if (b_.size() - at_ < bytes) {
      return false;
    }
    out = 0;
    for (size_t i = 0; i < bytes; ++i) {
      out = (out << 8) | static_cast<uint8_t>(b_[at_++]);
    }
    return true;
  }
  // A nested reader over the next `n` bytes (this one moves past them).
  bool sub(size_t n, reader& out) {
    if (b_.size() - at_ < n) {
      return false;
    }
    out = reader{b_.substr(at_, n)};
    at_ += n;
    return true;
  }
  std::string_view rest() const { return b_.substr(at_); }
  bool done() const { return at_ == b_.size(); }

 private:
  std::string_view b_;
  size_t at_ = 0;
};

// The server_name extension's host name (RFC 6066 §3), or empty.
std::string server_name(std::string_view hello) {
  reader r{hello};
  uint32_t v = 0;
  reader list{""};
  if (!r.skip(2 + 32) || !r.read(1, v) || !r.skip(v) ||  // version, random, session id
      !r.read(2, v) || !r.skip(v) ||                     // cipher suites
      !r.read(1, v) || !r.skip(v) ||                     // compression methods
      !r.read(2, v) || !r.sub(v, list)) {                // extensions
    return {};
  }
  while (!list.done()) {
    uint32_t type = 0, size = 0;
    reader ext{""};
    if (!list.read(2, type) || !list.read(2, size) || !list.sub(size, ext)) {
      return {};
    }
    if (type != 0) {
      continue;
    }
    reader names{""};
    if (!ext.read(2, v) || !ext.sub(v, names)) {
      return {};
    }
    while (!names.done()) {
      uint32_t kind = 0, length = 0;
      reader name{""};
      if (!names.read(1, kind) || !names.read(2, length) || !names.sub(length, name)) {
        return {};
      }
      if (kind == 0) {  // host_name
        return std::string{name.rest()};
      }
    }
    return {};
  }
  return {};
}

// A TLS record of type handshake (22), version 3.x, holding a ClientHello (1).
sniff_result sniff_tls(std::string_view b, bool final) {
  if (b.size() >= 2 && static_cast<uint8_t>(b[1]) != 3) {
    return {sniffed_protocol::opaque, {}};
  }
  if (b.size() < 6) {
    return {final ? sniffed_protocol::opaque : sniffed_protocol::undecided, {}};
  }
  if (static_cast<uint8_t>(b[5]) != 1) {
    return {sniffed_protocol::opaque, {}};
  }
  size_t record = (static_cast<uint8_t>(b[3]) << 8) | static_cast<uint8_t>(b[4]);
  if (b.size() < 5 + record) {
    return {final ? sniffed_protocol::tls : sniffed_protocol::undecided, {}};
  }
  reader r{b.substr(5, record)};
  uint32_t type = 0, length = 0;
  reader hello{""};
  if (!r.read(1, type) || !r.read(3, length) || !r.sub(length, hello)) {
    return {sniffed_protocol::tls, {}};  // a ClientHello over several records: no name read
  }
  return {sniffed_protocol::tls, server_name(hello.rest())};
}

}  // namespace

const char* to_string(sniffed_protocol p) {
  switch (p) {
    case sniffed_protocol::undecided:
      return "undecided";
    case sniffed_protocol::http1:
      return "http1";
    case sniffed_protocol::http2:
      return "http2";
    case sniffed_protocol::tls:
      return "tls";
    case sniffed_protocol::opaque:
      break;
  }
  return "opaque";
}

sniff_result sniff_protocol(std::string_view bytes, bool final) {
  if (bytes.empty()) {
    return {final ? sniffed_protocol::opaque : sniffed_protocol::undecided, {}};
  }
  if (bytes.size() > max_sniff_bytes) {
    bytes = bytes.substr(0, max_sniff_bytes);
    final = true;
  }
  if (static_cast<uint8_t>(bytes[0]) == 0x16) {
    return sniff_tls(bytes, final);
  }
  auto n = std::min(bytes.size(), h2_preface.size());
  if (bytes.substr(0, n) == h2_preface.substr(0, n)) {
    if (n == h2_preface.size()) {
      return {sniffed_protocol::http2, {}};
    }
    if (!final) {
      return {sniffed_protocol::undecided, {}};
    }
  }
  auto p = sniff_http1(bytes);
  if (p == sniffed_protocol::undecided && final) {
    p = sniffed_protocol::opaque;
  }
  return {p, {}};
}

}  // namespace am::net
