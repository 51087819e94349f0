#include <catch2/catch.hpp>

#include "net/http1_parser.h"

using namespace am::net;

namespace {

// Records what the parser reports.
struct recorder : http1_parser::sink {
  virtual ~recorder() = default;
  int heads = 0;
  int completes = 0;
  std::string body;
  std::string last_target;
  bool on_head(message_head& h) override {
    ++heads;
    last_target = h.target;
    return false;
  }
  void on_body(const char* d, size_t n) override { body.append(d, n); }
  void on_message_complete() override { ++completes; }
};

struct fixture {
  recorder r;
  http1_parser p{http1_parser::kind::request, r, 1024};

  size_t feed(const std::string& s) { return p.feed(s.data(), s.size()); }
};

}  // namespace

TEST_CASE_METHOD(fixture, "a chunked request body is decoded") {
  std::string req =
      "POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
  CHECK(feed(req) == req.size());
  CHECK(r.body == "hello world");
  CHECK(r.completes == 1);
  CHECK(p.head().chunked);
}

TEST_CASE_METHOD(fixture, "the parser stops after each pipelined request until resumed") {
  std::string two = "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\r\n";
  auto used = feed(two);
  CHECK(r.heads == 1);
  CHECK(r.last_target == "/a");
  CHECK(p.stopped_at_message_end());
  p.resume();
  auto rest = two.substr(used);
  CHECK(feed(rest) == rest.size());
  CHECK(r.last_target == "/b");
  CHECK(r.completes == 2);
}

TEST_CASE_METHOD(fixture, "a pipelined request's head gets the same bare-CR check") {
  std::string two =
      "GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: a\r\n\rX: 1\r\n\r\n";
  auto used = feed(two);
  REQUIRE(r.completes == 1);
  p.resume();
  feed(two.substr(used));
  CHECK(p.error() == parse_error::malformed);
  CHECK(r.heads == 1);
}

TEST_CASE_METHOD(fixture, "both Content-Length and Transfer-Encoding is refused as smuggling") {
  feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n");
  CHECK(p.error() == parse_error::bad_framing);
  CHECK(r.heads == 0);
}

TEST_CASE_METHOD(fixture, "differing Content-Length values are refused") {
  feed("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd");
  CHECK(p.error() == parse_error::bad_framing);
}

TEST_CASE_METHOD(fixture, "an unknown transfer coding is refused") {
  feed("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n");
  CHECK(p.error() == parse_error::bad_framing);
}

TEST_CASE_METHOD(fixture, "a header block over the limit is reported as too large") {
  feed("GET / HTTP/1.1\r\nHost: a\r\nX-Big: " + std::string(2000, 'a') + "\r\n\r\n");
  CHECK(p.error() == parse_error::header_too_large);
}

TEST_CASE_METHOD(fixture, "a malformed request line is malformed") {
  feed("GET / HTTP/9.9.9\r\n\r\n");
  CHECK(p.error() == parse_error::malformed);
}

TEST_CASE_METHOD(fixture, "CONNECT stops at the end of the head, leaving tunnel bytes unread") {
  std::string req = "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n";
  auto used = feed(req + "\x16\x03\x01");
  CHECK(used == req.size());
  CHECK(p.upgraded());
  CHECK(p.head().method == "CONNECT");
}

TEST_CASE("a response to HEAD has no body even with Content-Length") {
  struct head_sink : recorder {
    bool on_head(message_head& h) override {
      recorder::on_head(h);
      return true;
    }
  } r;
  http1_parser p{http1_parser::kind::response, r, 1024};
  std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
  CHECK(p.feed(resp.data(), resp.size()) == resp.size());
  CHECK(r.completes == 1);
  CHECK(r.body.empty());
}
