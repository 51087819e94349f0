#include <catch2/catch.hpp>

#include "net/h2_message.h"

using namespace am::net;

namespace {

h2_fields block(std::initializer_list<std::pair<const char*, const char*>> fields) {
  h2_fields out;
  for (const auto& [n, v] : fields) {
    out.push_back({n, v});
  }
  return out;
}

}  // namespace

TEST_CASE("an HTTP/2 request becomes a message head the HTTP/1.1 code paths understand") {
  auto fields = block({{":method", "POST"},
                       {":scheme", "http"},
                       {":authority", "echo:50051"},
                       {":path", "/pkg.Svc/Call"},
                       {"content-type", "application/grpc"},
                       {"te", "trailers"}});
  message_head head;
  std::string error;
  REQUIRE(read_h2_head(fields, false, head, error));
  CHECK(head.method == "POST");
  CHECK(head.target == "/pkg.Svc/Call");
  REQUIRE(head.find("host") != nullptr);
  CHECK(*head.find("host") == "echo:50051");
  CHECK(*head.find("content-type") == "application/grpc");
  CHECK(head.chunked);  // a body of unknown length follows
  CHECK_FALSE(head.has_content_length);
}

TEST_CASE(":authority wins over a Host field, and content-length sets the framing") {
  auto fields = block({{":method", "PUT"},
                       {":authority", "api"},
                       {":path", "/x"},
                       {"host", "elsewhere"},
                       {"content-length", "12"}});
  message_head head;
  std::string error;
  REQUIRE(read_h2_head(fields, false, head, error));
  CHECK(*head.find("host") == "api");
  size_t hosts = 0;
  for (size_t i = 0; i < head.count; ++i) {
    hosts += head.fields[i].name == "host" ? 1 : 0;
  }
  CHECK(hosts == 1);
  CHECK(head.has_content_length);
  CHECK(head.content_length == 12);
  CHECK_FALSE(head.chunked);
  CHECK(head.find("content-length") == nullptr);  // framing is written by each codec
}

TEST_CASE("a request without :path or with a bad length is refused with a reason") {
  message_head head;
  std::string error;
  auto no_path = block({{":method", "GET"}, {":authority", "api"}});
  CHECK_FALSE(read_h2_head(no_path, true, head, error));
  CHECK(error == "request without :path");
  auto bad_length = block({{":method", "GET"}, {":path", "/"}, {"content-length", "1x"}});
  CHECK_FALSE(read_h2_head(bad_length, true, head, error));
  CHECK(error.find("content-length") != std::string::npos);
}

TEST_CASE("a response and its trailers, and fields written back with lower-case names") {
  auto fields = block({{":status", "200"}, {"content-type", "application/grpc"}});
  message_head head;
  std::string error;
  REQUIRE(read_h2_head(fields, false, head, error));
  CHECK(head.status == 200);
  message_head h1;
  h1.fields.push_back({"Content-Type", "text/plain"});
  h1.fields.push_back({"Connection", "close"});
  h1.fields.push_back({"X-Trace", "1"});
  h1.count = 3;
  h2_field_list out;
  append_h2_fields(h1, out);
  REQUIRE(out.size() == 2);  // Connection is hop-by-hop
  CHECK(out.view()[0].name == "content-type");
  CHECK(out.view()[1].name == "x-trace");
}
