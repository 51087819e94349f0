#include "net/trace_context.h"

#include <catch2/catch.hpp>

using namespace am::net;

namespace {

constexpr const char* w3c_example = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

}  // namespace

TEST_CASE("traceparent: the W3C example parses, and goes on with this hop's span") {
  trace_context c;
  REQUIRE(parse_traceparent(w3c_example, c));
  CHECK(c.trace_hi == 0x4bf92f3577b34da6ULL);
  CHECK(c.trace_lo == 0xa3ce929d0e0e4736ULL);
  CHECK(c.parent == 0x00f067aa0ba902b7ULL);
  CHECK(c.sampled);
  c.span = 0x1122334455667788ULL;
  hop_trace h;
  h.context = c;
  h.format(b3_format::none);
  CHECK(h.traceparent == "00-4bf92f3577b34da6a3ce929d0e0e4736-1122334455667788-01");
  CHECK(h.trace_id() == "4bf92f3577b34da6a3ce929d0e0e4736");
  CHECK(h.span_id() == "1122334455667788");
  CHECK(h.parent_id == "00f067aa0ba902b7");
}

TEST_CASE("traceparent: what the spec calls invalid is no context") {
  trace_context c;
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // no flags
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // version 00 is 55
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
       }) {
    INFO(bad);
    CHECK_FALSE(parse_traceparent(bad, c));
  }
  // A later version: its first four fields, more after a dash.
  CHECK(parse_traceparent("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-later", c));
  CHECK_FALSE(c.sampled);
}

TEST_CASE("b3: single and multi headers, 64- and 128-bit trace ids") {
  trace_context c;
  REQUIRE(parse_b3("80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90", c));
  CHECK(c.trace_hi == 0x80f198ee56343ba8ULL);
  CHECK(c.parent == 0xe457b5a2e4d86bd1ULL);  // the caller's span is our parent
  CHECK(c.sampled);
  REQUIRE(parse_b3("64fe8b2a57d3eff7-e457b5a2e4d86bd1-0", c));
  CHECK(c.trace_hi == 0);
  CHECK(c.trace_lo == 0x64fe8b2a57d3eff7ULL);
  CHECK_FALSE(c.sampled);
  CHECK_FALSE(parse_b3("1", c));  // a sampling decision alone
  CHECK_FALSE(parse_b3("64fe8b2a57d3eff7-e457b5a2e4d86bd1-x", c));
  REQUIRE(parse_b3_multi("463ac35c9f6413ad48485a3953bb6124", "a2fb4a1d1a96d312", "1", c));
  CHECK(c.trace_lo == 0x48485a3953bb6124ULL);
  CHECK(c.parent == 0xa2fb4a1d1a96d312ULL);
  REQUIRE(parse_b3_multi("463ac35c9f6413ad", "a2fb4a1d1a96d312", "", c));
  CHECK(c.sampled);
  CHECK_FALSE(parse_b3_multi("463ac35c9f6413ad", "a2fb", "1", c));
  c.span = 0x0102030405060708ULL;
  hop_trace h;
  h.context = c;
  h.format(b3_format::single);
  CHECK(h.b3_single == "0000000000000000463ac35c9f6413ad-0102030405060708-1-a2fb4a1d1a96d312");
}

TEST_CASE("trace fields are told by name, whatever the case; X-B3-Flags passes as it came") {
  CHECK(is_trace_field("traceparent"));
  CHECK(is_trace_field("TraceParent"));
  CHECK(is_trace_field("b3"));
  CHECK(is_trace_field("X-B3-TraceId"));
  CHECK(is_trace_field("x-b3-parentspanid"));
  CHECK_FALSE(is_trace_field("x-b3-flags"));
  CHECK_FALSE(is_trace_field("tracestate"));  // vendors' state travels untouched
  CHECK_FALSE(is_trace_field("b"));
  CHECK_FALSE(is_trace_field("x-request-id"));
}
