// Spans to a tracing collector (Zipkin v2 JSON, `POST /api/v2/spans`), off the event loop:
// workers format each sampled request's span into a private buffer and hand full batches to
// one exporter thread, which posts them. Its queue is bounded in spans: when the collector is
// slow or gone, spans are dropped and counted, and the request path never waits.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace am::net {

// One sidecar hop of a request, as a span.
struct span_record {
  std::string_view trace_id;   // 32 hex
  std::string_view span_id;    // 16 hex
  std::string_view parent_id;  // 16 hex, or "" for a trace's first span
  bool server = false;         // the inbound side (SERVER); the outbound is the CLIENT
  std::string_view local_service;
  std::string_view method;
  std::string_view authority;
  std::string_view path;
  int status = 0;
  std::string_view upstream;
  std::string_view error;
  int64_t start_unix_us = 0;
  uint64_t duration_us = 0;
};

// The span as a Zipkin v2 JSON object, appended to `out`.
void append_zipkin_span(std::string& out, const span_record& s);

class span_exporter {
 public:
  // Posts to the collector at `address`:`port`; at most `max_queue_spans` wait. Counts the
  // spans the collector took in `exported`, those dropped in `dropped`. A collector that takes
  // longer than `timeout` to connect, read or answer is treated as gone.
  span_exporter(std::string address, uint16_t port, uint32_t max_queue_spans,
                std::atomic<uint64_t>& exported, std::atomic<uint64_t>& dropped,
                std::chrono::milliseconds timeout = std::chrono::seconds{2});
  ~span_exporter();  // posts what is queued (one try), then stops
  span_exporter(const span_exporter&) = delete;
  span_exporter& operator=(const span_exporter&) = delete;

  // A batch of `count` span objects separated by commas; callable from any thread.
  void submit(std::string&& spans, uint32_t count);

 private:
  void run();
  // One POST of a JSON array; false (with `why`) when the collector did not take it.
  bool post(const std::string& body, std::string& why);

  std::string address_;
  uint16_t port_;
  uint32_t max_queue_spans_;
  std::chrono::milliseconds timeout_;
  std::atomic<uint64_t>& exported_;
  std::atomic<uint64_t>& dropped_;
  int64_t last_complaint_ = 0;  // seconds on the monotonic clock (exporter thread)
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::pair<std::string, uint32_t>> queue_;  // under mutex_
  uint32_t queued_spans_ = 0;                            // under mutex_
  bool stopping_ = false;                                // under mutex_
  std::thread thread_;
};

// A worker's buffer: append() formats, flush() hands the batch to the exporter.
class span_buffer {
 public:
  explicit span_buffer(span_exporter* exporter) : exporter_(exporter) {}

  bool enabled() const { return exporter_ != nullptr; }
  void append(const span_record& s);
  void flush();
  bool empty() const { return count_ == 0; }

 private:
  span_exporter* exporter_;
  std::string pending_;
  uint32_t count_ = 0;
};

}  // namespace am::net
