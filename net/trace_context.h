// Trace context across sidecar hops: W3C Trace Context (`traceparent`), and Zipkin's B3 headers
// when a request brings them. A request keeps the trace it came with (or starts one); each
// sidecar hop adds a span whose parent is the caller's. Pure: header values in, values out.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace am::net {

struct trace_context {
  uint64_t trace_hi = 0;  // the trace id, 128 bits (both halves 0: none)
  uint64_t trace_lo = 0;
  uint64_t parent = 0;  // the caller's span (0: this hop began the trace)
  uint64_t span = 0;    // this hop's span
  bool sampled = true;

  bool has_trace() const { return trace_hi != 0 || trace_lo != 0; }
};

// How a request's context came, and so how it goes on (traceparent always goes on as well).
enum class b3_format { none, single, multi };

// W3C `traceparent`: "00-<32 hex trace>-<16 hex parent>-<2 hex flags>" (a later version's
// first four fields too). All-zero ids, upper-case hex and version ff are invalid.
bool parse_traceparent(std::string_view value, trace_context& out);

// B3 single header: "<16|32 hex trace>-<16 hex span>[-<1|0|d>[-<16 hex parent>]]". A bare
// sampling decision ("0", "1", "d") is no context.
bool parse_b3(std::string_view value, trace_context& out);

// B3 multi headers: X-B3-TraceId (16 or 32 hex), X-B3-SpanId (16 hex), X-B3-Sampled (may be
// empty: sampled).
bool parse_b3_multi(std::string_view trace_id, std::string_view span_id, std::string_view sampled,
                    trace_context& out);

// Lower-case hex of fixed width: 32 digits for the trace id, 16 for a span id.
void format_trace_id(const trace_context& c, std::string& out);
void format_span_id(uint64_t span, std::string& out);

// What the next hop gets: this hop's span as its parent.
void format_traceparent(const trace_context& c, std::string& out);
void format_b3(const trace_context& c, std::string& out);  // the single header, parent included

// Whether a request field is one of those above (replaced, never passed on as it came).
bool is_trace_field(std::string_view name);

// One request's trace at this hop, formatted once: what goes on to the next hop and into the
// access log. The strings keep their capacity from request to request.
struct hop_trace {
  trace_context context;
  b3_format b3 = b3_format::none;
  std::string traceparent;  // for the next hop: the trace with this hop's span as its parent
  std::string b3_single;    // the same as a B3 single header (b3 == single)
  std::string parent_id;    // the caller's span ("" when this hop began the trace)

  std::string_view trace_id() const { return std::string_view{traceparent}.substr(3, 32); }
  std::string_view span_id() const { return std::string_view{traceparent}.substr(36, 16); }

  // Formats the above for `context` (with its span set).
  void format(b3_format how);
};

}  // namespace am::net
