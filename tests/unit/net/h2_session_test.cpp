// The HTTP/2 codec in memory: a client session and a server session exchanging bytes.
#include <catch2/catch.hpp>

#include <map>

#include "net/h2_session.h"

using namespace am::net;

namespace {

// Records what one side's session reports.
struct recorder final : h2_events {
  struct stream {
    std::vector<h2_fields> header_blocks;
    std::string body;
    bool ended = false;
    bool closed = false;
    uint32_t close_code = 0;
  };
  std::map<int32_t, stream> streams;
  int32_t goaway_last = -1;
  uint32_t goaway_code = 0;
  std::vector<int32_t> too_large;
  std::vector<std::string> floods;

  void on_h2_headers_too_large(int32_t id, bool) override { too_large.push_back(id); }
  void on_h2_flood(const char* what) override { floods.emplace_back(what); }

  void on_h2_headers(int32_t id, std::span<h2_field> fields, bool end_stream) override {
    streams[id].header_blocks.emplace_back(fields.begin(), fields.end());
    streams[id].ended |= end_stream;
  }
  void on_h2_data(int32_t id, const char* data, size_t size) override {
    streams[id].body.append(data, size);
  }
  void on_h2_end(int32_t id) override { streams[id].ended = true; }
  void on_h2_closed(int32_t id, uint32_t code) override {
    streams[id].closed = true;
    streams[id].close_code = code;
  }
  void on_h2_goaway(int32_t last, uint32_t code) override {
    goaway_last = last;
    goaway_code = code;
  }

  std::string field(int32_t id, size_t block, const std::string& name) {
    for (const auto& f : streams[id].header_blocks.at(block)) {
      if (f.name == name) {
        return f.value;
      }
    }
    return {};
  }
};

struct pair_of_sessions {
  recorder client_events, server_events;
  h2_session client{h2_session::role::client, client_events};
  h2_session server;

  explicit pair_of_sessions(h2_session::settings server_settings = {})
      : server{h2_session::role::server, server_events, server_settings} {}

  // Moves bytes both ways until neither side has anything to send.
  void pump() {
    for (int i = 0; i < 100; ++i) {
      std::string c2s, s2c;
      client.output(c2s);
      server.output(s2c);
      if (c2s.empty() && s2c.empty()) {
        return;
      }
      REQUIRE(server.feed(c2s.data(), c2s.size()));
      REQUIRE(client.feed(s2c.data(), s2c.size()));
    }
  }
};

h2_fields request(const std::string& method, const std::string& path) {
  return {{":method", method}, {":scheme", "http"}, {":authority", "echo"}, {":path", path}};
}

}  // namespace

TEST_CASE("the connection preface is recognised from its first bytes") {
  bool complete = false;
  CHECK(h2_session::matches_preface("PRI * HTTP/2", complete));
  CHECK(!complete);
  CHECK(h2_session::matches_preface("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00", complete));
  CHECK(complete);
  CHECK(!h2_session::matches_preface("GET / HTTP/1.1\r\n", complete));
  CHECK(!h2_session::matches_preface("PRIVATE", complete));
}

TEST_CASE("a request with a body and a response with trailers, as gRPC sends them") {
  pair_of_sessions p;
  auto id = p.client.submit_request(request("POST", "/pkg.Echo/Unary"), false);
  REQUIRE(id > 0);
  p.client.send_data(id, "hello");
  p.client.end_stream(id);
  p.pump();
  auto& req = p.server_events.streams[id];
  CHECK(p.server_events.field(id, 0, ":path") == "/pkg.Echo/Unary");
  CHECK(req.body == "hello");
  CHECK(req.ended);
  p.server.consume(id, req.body.size());

  REQUIRE(p.server.submit_response(
      id, h2_fields{{":status", "200"}, {"content-type", "application/grpc"}}, false));
  p.server.send_data(id, "world");
  p.server.end_stream(id, h2_fields{{"grpc-status", "0"}, {"grpc-message", "ok"}});
  p.pump();
  auto& resp = p.client_events.streams[id];
  REQUIRE(resp.header_blocks.size() == 2);  // headers, then trailers
  CHECK(p.client_events.field(id, 0, ":status") == "200");
  CHECK(p.client_events.field(id, 1, "grpc-status") == "0");
  CHECK(resp.body == "world");
  CHECK(resp.ended);
  CHECK(resp.closed);
  CHECK(resp.close_code == 0);
  CHECK(p.client.open_streams() == 0);
}

TEST_CASE("many concurrent streams share one connection") {
  pair_of_sessions p;
  std::vector<int32_t> ids;
  for (int i = 0; i < 100; ++i) {
    ids.push_back(p.client.submit_request(request("GET", "/" + std::to_string(i)), true));
  }
  p.pump();
  CHECK(p.server.open_streams() == 100);
  for (auto id : ids) {
    p.server.submit_response(id, h2_fields{{":status", "204"}}, true);
  }
  p.pump();
  for (auto id : ids) {
    CHECK(p.client_events.field(id, 0, ":status") == "204");
    CHECK(p.client_events.streams[id].closed);
  }
  CHECK(p.server.open_streams() == 0);
}

TEST_CASE("a reader that does not forward data stops the writer at the window") {
  pair_of_sessions p;
  auto id = p.client.submit_request(request("POST", "/upload"), false);
  p.client.send_data(id, std::string(1 << 20, 'x'));  // 1 MiB
  p.pump();
  // The server's application has not consumed anything: only the initial window got through.
  auto received = p.server_events.streams[id].body.size();
  CHECK(received == 65535);
  CHECK(p.client.buffered(id) == (1u << 20) - 65535);

  // Forwarding opens the window again, and the rest follows as it is consumed.
  size_t consumed = 0;
  for (int i = 0; i < 64 && p.client.buffered(id) > 0; ++i) {
    auto now = p.server_events.streams[id].body.size();
    p.server.consume(id, now - consumed);
    consumed = now;
    p.pump();
  }
  CHECK(p.client.buffered(id) == 0);
  CHECK(p.server_events.streams[id].body.size() == (1u << 20));
}

TEST_CASE("a cancelled stream reaches the other side as RST_STREAM CANCEL") {
  pair_of_sessions p;
  auto id = p.client.submit_request(request("POST", "/slow"), false);
  p.pump();
  p.client.reset(id, 8);
  p.pump();
  CHECK(p.server_events.streams[id].closed);
  CHECK(p.server_events.streams[id].close_code == 8);
}

TEST_CASE("the peer's stream limit is known after SETTINGS, and GOAWAY reaches the client") {
  h2_session::settings limited;
  limited.max_concurrent_streams = 10;
  pair_of_sessions p{limited};
  p.client.submit_request(request("GET", "/"), true);
  p.pump();
  CHECK(p.client.peer_max_concurrent_streams() == 10);
  p.server.shutdown_notice();
  p.server.goaway(0);
  p.pump();
  CHECK(p.client_events.goaway_last == 1);
}

TEST_CASE("bytes that are not HTTP/2 are a protocol error") {
  recorder events;
  h2_session server{h2_session::role::server, events};
  std::string junk = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  CHECK(!server.feed(junk.data(), junk.size()));
}

namespace {

std::string raw_frame(uint8_t type, uint8_t flags, int32_t stream, std::string_view payload) {
  std::string out;
  auto n = payload.size();
  out += static_cast<char>(n >> 16);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  for (int shift : {24, 16, 8, 0}) {
    out += static_cast<char>(stream >> shift);
  }
  out.append(payload);
  return out;
}

}  // namespace

TEST_CASE("a header list over the limit is reported, and the connection's next stream is not") {
  pair_of_sessions p{{256, 65535, 16 * 1024, 1}};
  auto big = request("GET", "/big");
  for (int i = 0; i < 6; ++i) {
    big.push_back({"x-big-" + std::to_string(i), std::string(4000, 'a')});  // ~24 KB
  }
  auto first = p.client.submit_request(big, true);
  auto second = p.client.submit_request(request("GET", "/small"), true);
  p.pump();
  CHECK(p.server_events.too_large == std::vector<int32_t>{first});
  CHECK(p.server_events.streams.count(first) == 0);  // no fields reached the owner
  REQUIRE(p.server_events.streams[second].header_blocks.size() == 1);
  CHECK(p.server_events.field(second, 0, ":path") == "/small");
  CHECK(p.client_events.goaway_last == -1);
}

TEST_CASE("an HPACK bomb counts decoded bytes, not the few bytes sent") {
  pair_of_sessions p{{256, 65535, 16 * 1024, 1}};
  auto fields = request("GET", "/bomb");
  for (int i = 0; i < 50; ++i) {
    fields.push_back({"x-same", std::string(1000, 'b')});  // HPACK sends it once, then indexes
  }
  auto id = p.client.submit_request(fields, true);
  p.pump();
  CHECK(p.server_events.too_large == std::vector<int32_t>{id});
}

TEST_CASE("consecutive empty DATA frames end the connection with ENHANCE_YOUR_CALM") {
  pair_of_sessions p{{256, 65535, 64 * 1024, 2}};
  auto id = p.client.submit_request(request("POST", "/upload"), false);
  p.pump();
  std::string flood;
  for (int i = 0; i < 3; ++i) {
    flood += raw_frame(0 /* DATA */, 0, id, "");
  }
  // Two are tolerated; a frame with payload in between starts the count over.
  auto two = raw_frame(0, 0, id, "") + raw_frame(0, 0, id, "") + raw_frame(0, 0, id, "x");
  REQUIRE(p.server.feed(two.data(), two.size()));
  CHECK(p.server_events.floods.empty());
  CHECK_FALSE(p.server.feed(flood.data(), flood.size()));  // the connection ends
  REQUIRE(p.server_events.floods.size() == 1);
  std::string out;
  p.server.output(out);
  REQUIRE(p.client.feed(out.data(), out.size()));
  CHECK(p.client_events.goaway_code == 0xb);  // ENHANCE_YOUR_CALM
  CHECK_FALSE(p.server.alive());
}

TEST_CASE("after a flood ends the session, the frames after it in the same input are not read") {
  // Found by the h2 fuzz target: nghttp2 went on parsing after the flood's GOAWAY, and a
  // frame of a bad size then tripped its assertion (an abort).
  pair_of_sessions p{{256, 65535, 64 * 1024, 1}};
  auto id = p.client.submit_request(request("POST", "/upload"), false);
  p.pump();
  auto input = raw_frame(0, 0, id, "") + raw_frame(0, 0, id, "") +
               raw_frame(6 /* PING */, 0, 0, "1234567");  // PING must be 8 bytes
  CHECK_FALSE(p.server.feed(input.data(), input.size()));
  CHECK(p.server_events.floods.size() == 1);
  std::string more = raw_frame(6, 0, 0, "12345678");
  CHECK_FALSE(p.server.feed(more.data(), more.size()));  // nothing more is read
  std::string out;
  p.server.output(out);
  REQUIRE(p.client.feed(out.data(), out.size()));
  CHECK(p.client_events.goaway_code == 0xb);  // ENHANCE_YOUR_CALM, not a protocol error
}
