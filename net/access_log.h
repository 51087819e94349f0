// The access log: one JSON line per request. Workers format a line into a private buffer and
// hand full buffers to a writer thread, so the request path never waits on a file write.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace am::net {

struct access_record {
  int64_t start_unix_ms = 0;
  std::string_view request_id;
  std::string_view trace_id;  // W3C trace context: the trace, this hop's span and
  std::string_view span_id;   // the caller's ("" when this hop began the trace)
  std::string_view parent_span_id;
  std::string_view method;
  std::string_view authority;
  std::string_view path;
  int status = 0;
  int grpc_status = -1;  // gRPC calls only
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t duration_us = 0;
  std::string_view upstream;
  std::string_view error;
  std::string_view service;
  std::string_view direction;
};

class access_log_writer {
 public:
  // `path` is "stdout" or a file opened for appending; an empty path disables the log.
  // Batches that would queue more than `max_queue_bytes` (0: no limit) are dropped, and so
  // are those a write fails on; `dropped` (optional) counts their lines.
  explicit access_log_writer(const std::string& path, uint64_t max_queue_bytes = 0,
                             std::atomic<uint64_t>* dropped = nullptr);
  ~access_log_writer();
  access_log_writer(const access_log_writer&) = delete;
  access_log_writer& operator=(const access_log_writer&) = delete;

  bool enabled() const { return fd_ >= 0; }

  // Takes a batch of complete lines; callable from any thread.
  void submit(std::string&& lines);

 private:
  void run();
  void drop(std::string_view lines, const char* why);

  int fd_ = -1;
  uint64_t max_queue_bytes_;
  uint64_t queued_bytes_ = 0;  // under mutex_
  std::atomic<uint64_t>* dropped_;
  int64_t last_complaint_ = 0;  // seconds on the monotonic clock (writer thread)
  bool owns_fd_ = false;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> queue_;
  bool stopping_ = false;
  std::thread thread_;
};

// A worker's buffer: append() formats, flush() hands the batch to the writer.
class access_log_buffer {
 public:
  explicit access_log_buffer(access_log_writer* writer) : writer_(writer) {}

  bool enabled() const { return writer_ != nullptr && writer_->enabled(); }
  void append(const access_record& r);
  void flush();
  bool empty() const { return pending_.empty(); }

 private:
  access_log_writer* writer_;
  std::string pending_;
};

}  // namespace am::net
