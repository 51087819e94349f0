// What the first bytes of an intercepted connection say it speaks: an HTTP/1.x request line,
// the HTTP/2 connection preface, a TLS ClientHello (with the server name it asks for), or
// anything else (opaque TCP). Pure: bytes in, a verdict out, no I/O.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace am::net {

enum class sniffed_protocol {
  undecided,  // the bytes so far fit more than one answer: wait for more (or the timeout)
  http1,
  http2,
  tls,
  opaque,
};

const char* to_string(sniffed_protocol p);

struct sniff_result {
  sniffed_protocol protocol = sniffed_protocol::undecided;
  std::string sni;  // TLS: the ClientHello's server_name, when it has one
};

// At most this many bytes are looked at: a ClientHello fits (one TLS record); more bytes that
// still decide nothing are opaque.
inline constexpr size_t max_sniff_bytes = 16384 + 5;

// `final`: no more bytes will come (the client closed, or the detection time ran out): what
// is still undecided is decided now (a request line cut short is opaque, a ClientHello cut
// short is TLS without a name).
sniff_result sniff_protocol(std::string_view bytes, bool final = false);

}  // namespace am::net
