// Protocol detection on intercepted connections: the first bytes decide HTTP/1.x, HTTP/2,
// TLS (with its server name) or opaque TCP; too few bytes wait, unless no more will come.
#include <catch2/catch.hpp>
#include <cstdint>
#include <string>

#include "net/protocol_sniffer.h"

using namespace am::net;

namespace {

void put16(std::string& out, size_t v) {
  out += static_cast<char>((v >> 8) & 0xff);
  out += static_cast<char>(v & 0xff);
}

// A TLS 1.2 record holding a ClientHello, with a server_name extension when `sni` is given.
std::string client_hello(const std::string& sni) {
  std::string extensions;
  if (!sni.empty()) {
    std::string names;
    names += '\0';  // host_name
    put16(names, sni.size());
    names += sni;
    std::string ext;
    put16(ext, names.size());
    ext += names;
    put16(extensions, 0);  // server_name
    put16(extensions, ext.size());
    extensions += ext;
  }
  put16(extensions, 0x000b);  // ec_point_formats, to come before or after the name
  put16(extensions, 2);
  extensions += std::string{"\x01\x00", 2};
  std::string body;
  body += "\x03\x03";
  body += std::string(32, 'r');  // random
  body += static_cast<char>(32);
  body += std::string(32, 's');  // session id
  put16(body, 4);
  body += std::string{"\x13\x01\x13\x02", 4};
  body += std::string{"\x01\x00", 2};  // compression: null
  put16(body, extensions.size());
  body += extensions;
  std::string handshake;
  handshake += '\x01';
  handshake += '\0';
  put16(handshake, body.size());
  handshake += body;
  std::string record{"\x16\x03\x01", 3};
  put16(record, handshake.size());
  return record + handshake;
}

}  // namespace

TEST_CASE("an HTTP/1.x request line is HTTP/1") {
  CHECK(sniff_protocol("GET / HTTP/1.1\r\n").protocol == sniffed_protocol::http1);
  CHECK(sniff_protocol("POST /x").protocol == sniffed_protocol::http1);
  CHECK(sniff_protocol("CONNECT example.com:443 HTTP/1.1").protocol == sniffed_protocol::http1);
  CHECK(sniff_protocol("OPTIONS * HTTP/1.1").protocol == sniffed_protocol::http1);
  CHECK(sniff_protocol("GET http://a/ HTTP/1.1").protocol == sniffed_protocol::http1);
  CHECK(sniff_protocol("M-SEARCH * HTTP/1.1").protocol == sniffed_protocol::http1);
}

TEST_CASE("too few bytes wait, unless no more will come") {
  CHECK(sniff_protocol("").protocol == sniffed_protocol::undecided);
  CHECK(sniff_protocol("GE").protocol == sniffed_protocol::undecided);
  CHECK(sniff_protocol("GET").protocol == sniffed_protocol::undecided);
  CHECK(sniff_protocol("GET ").protocol == sniffed_protocol::undecided);
  CHECK(sniff_protocol("PRI * HTTP/2.0\r\n").protocol == sniffed_protocol::undecided);
  CHECK(sniff_protocol("GET", true).protocol == sniffed_protocol::opaque);
  CHECK(sniff_protocol("", true).protocol == sniffed_protocol::opaque);
}

TEST_CASE("the HTTP/2 preface is HTTP/2, even before its end has come") {
  std::string preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  CHECK(sniff_protocol(preface).protocol == sniffed_protocol::http2);
  CHECK(sniff_protocol(preface + "\x00\x00\x12\x04").protocol == sniffed_protocol::http2);
  CHECK(sniff_protocol("PRI * HTTP/2.0\r\n\r\nXX").protocol == sniffed_protocol::http1);
}

TEST_CASE("a ClientHello is TLS, with the server name it asks for") {
  auto hello = client_hello("payments.mesh");
  auto r = sniff_protocol(hello);
  CHECK(r.protocol == sniffed_protocol::tls);
  CHECK(r.sni == "payments.mesh");
  auto nameless = sniff_protocol(client_hello(""));
  CHECK(nameless.protocol == sniffed_protocol::tls);
  CHECK(nameless.sni.empty());
  // Half a ClientHello waits for the rest; if the rest never comes, TLS without a name.
  auto half = hello.substr(0, hello.size() / 2);
  CHECK(sniff_protocol(half).protocol == sniffed_protocol::undecided);
  auto cut = sniff_protocol(half, true);
  CHECK(cut.protocol == sniffed_protocol::tls);
  CHECK(cut.sni.empty());
}

TEST_CASE("a ClientHello whose lengths lie is TLS without a name, never read past its end") {
  auto hello = client_hello("payments");
  // The server_name list claims more bytes than the extension holds.
  auto at = hello.find("payments");
  REQUIRE(at != std::string::npos);
  hello[at - 2] = '\x7f';
  auto r = sniff_protocol(hello);
  CHECK(r.protocol == sniffed_protocol::tls);
  CHECK(r.sni.empty());
}

TEST_CASE("anything else is opaque") {
  CHECK(sniff_protocol("\x0a\x35\x2e\x37").protocol == sniffed_protocol::opaque);  // MySQL-ish
  CHECK(sniff_protocol("get / HTTP/1.1").protocol == sniffed_protocol::opaque);
  CHECK(sniff_protocol("GET\t/").protocol == sniffed_protocol::opaque);
  CHECK(sniff_protocol(" GET /").protocol == sniffed_protocol::opaque);
  CHECK(sniff_protocol(std::string{"\x16\x01\x00", 3}).protocol == sniffed_protocol::opaque);
  CHECK(sniff_protocol(std::string(30, 'A')).protocol == sniffed_protocol::opaque);
  // Found by the fuzzer: a method too long stays opaque when a space follows.
  CHECK(sniff_protocol(std::string(21, 'U')).protocol == sniffed_protocol::opaque);
  CHECK(sniff_protocol(std::string(21, 'U') + " ").protocol == sniffed_protocol::opaque);
  CHECK(sniff_protocol(std::string{"\x16\x03\x01\x00\x05\x02", 6}).protocol ==
        sniffed_protocol::opaque);  // a ServerHello: no client sends one
}
