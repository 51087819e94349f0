#include <catch2/catch.hpp>

#include "net/http1_message.h"

using namespace am::net;

namespace {

message_head head_with(std::vector<header_field> fields) {
  message_head h;
  h.fields = std::move(fields);
  h.count = h.fields.size();
  return h;
}

}  // namespace

TEST_CASE("absolute-form targets split into authority and path") {
  std::string_view authority, path;
  REQUIRE(split_absolute_form("http://echo/hello?x=1", authority, path));
  CHECK(authority == "echo");
  CHECK(path == "/hello?x=1");
  REQUIRE(split_absolute_form("HTTP://echo:8080", authority, path));
  CHECK(authority == "echo:8080");
  CHECK(path == "/");
  CHECK_FALSE(split_absolute_form("/hello", authority, path));
  CHECK_FALSE(split_absolute_form("https://echo/", authority, path));
  CHECK_FALSE(split_absolute_form("http:///x", authority, path));
}

TEST_CASE("authorities split into host and port") {
  std::string_view host;
  uint16_t port = 0;
  REQUIRE(split_authority("echo", 80, host, port));
  CHECK(host == "echo");
  CHECK(port == 80);
  REQUIRE(split_authority("user:pw@echo:8080", 80, host, port));
  CHECK(host == "echo");
  CHECK(port == 8080);
  CHECK_FALSE(split_authority("echo:0", 80, host, port));
  CHECK_FALSE(split_authority("echo:99999", 80, host, port));
  CHECK_FALSE(split_authority("echo:http", 80, host, port));
  CHECK_FALSE(split_authority(":80", 80, host, port));
}

TEST_CASE("hop-by-hop fields and those named in Connection are not forwarded") {
  auto h = head_with({{"Host", "a"},
                      {"Connection", "keep-alive, X-Secret"},
                      {"Keep-Alive", "timeout=5"},
                      {"X-Secret", "1"},
                      {"Proxy-Connection", "keep-alive"},
                      {"TE", "trailers"},
                      {"X-Kept", "2"}});
  std::string out;
  append_end_to_end_fields(h, out);
  CHECK(out == "Host: a\r\nX-Kept: 2\r\n");
}

TEST_CASE("field lookup ignores case") {
  auto h = head_with({{"Content-Type", "text/plain"}});
  REQUIRE(h.find("content-type") != nullptr);
  CHECK(*h.find("CONTENT-TYPE") == "text/plain");
  CHECK(h.find("content-length") == nullptr);
}
