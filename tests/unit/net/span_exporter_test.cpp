#include "net/span_exporter.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>

using namespace am::net;

TEST_CASE("a span in Zipkin v2 JSON: ids, kind, times, the local service and HTTP tags") {
  span_record s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "1122334455667788";
  s.parent_id = "00f067aa0ba902b7";
  s.server = true;
  s.local_service = "orders";
  s.method = "GET";
  s.authority = "orders";
  s.path = "/a\"b";
  s.status = 503;
  s.upstream = "127.0.0.1:8080";
  s.error = "upstream_connect_failed";
  s.start_unix_us = 1764633600123000;
  s.duration_us = 1500;
  std::string out;
  append_zipkin_span(out, s);
  CHECK(out ==
        R"({"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","id":"1122334455667788",)"
        R"("parentId":"00f067aa0ba902b7","kind":"SERVER","name":"get",)"
        R"("timestamp":1764633600123000,"duration":1500,"localEndpoint":{"serviceName":"orders"},)"
        R"("tags":{"http.method":"GET","http.host":"orders","http.path":"/a\"b",)"
        R"("http.status_code":"503","upstream":"127.0.0.1:8080",)"
        R"("error":"upstream_connect_failed"}})");
}

TEST_CASE("a trace's first span has no parent; no upstream, no error: no such tags") {
  span_record s;
  s.trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  s.span_id = "1122334455667788";
  s.local_service = "frontend";
  s.method = "POST";
  s.authority = "orders";
  s.path = "/";
  s.status = 200;
  s.duration_us = 0;  // under a microsecond: Zipkin reads 0 as unknown
  std::string out;
  append_zipkin_span(out, s);
  CHECK(out.find("parentId") == std::string::npos);
  CHECK(out.find(R"("kind":"CLIENT","name":"post")") != std::string::npos);
  CHECK(out.find(R"("duration":1,)") != std::string::npos);
  CHECK(out.find("upstream") == std::string::npos);
  CHECK(out.find("error") == std::string::npos);
}

TEST_CASE("the exporter's queue is bounded in spans: a batch beyond it is dropped at once") {
  // A collector that never answers: connections complete in its backlog, nothing is read.
  int hung = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(hung, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(hung, 16) == 0);
  socklen_t size = sizeof address;
  ::getsockname(hung, reinterpret_cast<sockaddr*>(&address), &size);
  std::atomic<uint64_t> exported{0}, dropped{0};
  {
    span_exporter exporter("127.0.0.1", ntohs(address.sin_port), 10, exported, dropped,
                           std::chrono::milliseconds{200});
    exporter.submit("{}", 1);        // taken by the exporter, whose post hangs
    exporter.submit("{},{},{}", 9);  // 10 waiting or in flight: the bound
    CHECK(dropped == 0);
    exporter.submit("{}", 1);  // one more: dropped by submit itself
    CHECK(dropped == 1);
  }  // stopping: the hung posts time out and everything is dropped, nothing hangs
  CHECK(exported == 0);
  CHECK(dropped == 11);
  ::close(hung);
}
