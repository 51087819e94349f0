#include "net/access_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "config/json.h"

namespace am::net {

access_log_writer::access_log_writer(const std::string& path, uint64_t max_queue_bytes,
                                     std::atomic<uint64_t>* dropped)
    : max_queue_bytes_(max_queue_bytes), dropped_(dropped) {
  if (path.empty()) {
    return;
  }
  if (path == "stdout") {
    fd_ = STDOUT_FILENO;
  } else {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    owns_fd_ = fd_ >= 0;
  }
  if (fd_ >= 0) {
    thread_ = std::thread{[this] { run(); }};
  }
}

access_log_writer::~access_log_writer() {
  if (thread_.joinable()) {
    {
      std::lock_guard<std::mutex> guard{mutex_};
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  if (owns_fd_) {
    ::close(fd_);
  }
}

void access_log_writer::submit(std::string&& lines) {
  {
    std::lock_guard<std::mutex> guard{mutex_};
    if (max_queue_bytes_ == 0 || queued_bytes_ + lines.size() <= max_queue_bytes_) {
      queued_bytes_ += lines.size();
      queue_.push_back(std::move(lines));
      lines.clear();
    }
  }
  if (!lines.empty()) {
    drop(lines, nullptr);  // the writer is behind (a slow or stuck disk): memory stays bounded
    return;
  }
  cv_.notify_one();
}

// Counts the lines; a failed write is also said on stderr, at most once a minute.
void access_log_writer::drop(std::string_view lines, const char* why) {
  if (dropped_ != nullptr) {
    auto n = static_cast<uint64_t>(std::count(lines.begin(), lines.end(), '\n'));
    dropped_->fetch_add(n, std::memory_order_relaxed);
  }
  if (why != nullptr) {
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (last_complaint_ == 0 || now.tv_sec - last_complaint_ >= 60) {
      last_complaint_ = now.tv_sec;
      std::fprintf(stderr, "actormesh: access log: write failed (%s); lines are dropped\n", why);
    }
  }
}

void access_log_writer::run() {
  std::vector<std::string> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock{mutex_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty() && stopping_) {
        return;
      }
      batch.swap(queue_);
    }
    for (const auto& lines : batch) {
      size_t done = 0;
      while (done < lines.size()) {
        auto n = ::write(fd_, lines.data() + done, lines.size() - done);
        if (n < 0 && errno == EINTR) {
          continue;
        }
        if (n <= 0) {
          drop(std::string_view{lines}.substr(done), n < 0 ? std::strerror(errno) : "no progress");
          break;
        }
        done += static_cast<size_t>(n);
      }
      std::lock_guard<std::mutex> guard{mutex_};
      queued_bytes_ -= lines.size();
    }
    batch.clear();
  }
}

namespace {

void append_field(std::string& out, const char* key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  config::append_json_string(out, value);
}

// A value that needs no escaping (hex ids).
void append_plain_field(std::string& out, const char* key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":\"";
  out += value;
  out += '"';
}

void append_number(std::string& out, const char* key, uint64_t value) {
  out += ",\"";
  out += key;
  out += "\":";
  out += std::to_string(value);
}

void append_time(std::string& out, int64_t unix_ms) {
  time_t secs = unix_ms / 1000;
  tm t{};
  gmtime_r(&secs, &t);
  char buf[40];
  auto n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  out += "{\"time\":\"";
  out.append(buf, n);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ\"", static_cast<int>(unix_ms % 1000));
  out += ms;
}

}  // namespace

void access_log_buffer::append(const access_record& r) {
  append_time(pending_, r.start_unix_ms);
  append_field(pending_, "request_id", r.request_id);
  append_plain_field(pending_, "trace_id", r.trace_id);
  append_plain_field(pending_, "span_id", r.span_id);
  if (!r.parent_span_id.empty()) {
    append_plain_field(pending_, "parent_span_id", r.parent_span_id);
  }
  append_field(pending_, "direction", r.direction);
  append_field(pending_, "service", r.service);
  append_field(pending_, "method", r.method);
  append_field(pending_, "authority", r.authority);
  append_field(pending_, "path", r.path);
  append_number(pending_, "status", static_cast<uint64_t>(r.status));
  if (r.grpc_status >= 0) {
    append_number(pending_, "grpc_status", static_cast<uint64_t>(r.grpc_status));
  }
  append_number(pending_, "bytes_in", r.bytes_in);
  append_number(pending_, "bytes_out", r.bytes_out);
  append_number(pending_, "duration_us", r.duration_us);
  append_field(pending_, "upstream", r.upstream);
  append_field(pending_, "error", r.error);
  pending_ += "}\n";
  if (pending_.size() > 64 * 1024) {
    flush();
  }
}

void access_log_buffer::flush() {
  if (!pending_.empty() && writer_ != nullptr) {
    writer_->submit(std::move(pending_));
    pending_ = std::string{};
  }
}

}  // namespace am::net
