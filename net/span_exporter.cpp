#include "net/span_exporter.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "config/json.h"

namespace am::net {

namespace {

// Spans per POST: a collector takes batches, and one slow POST holds back no more than this.
constexpr uint32_t max_spans_per_post = 1000;

void append_string_field(std::string& out, const char* key, std::string_view value) {
  out += '"';
  out += key;
  out += "\":";
  config::append_json_string(out, value);
}

int64_t monotonic_seconds() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec;
}

}  // namespace

void append_zipkin_span(std::string& out, const span_record& s) {
  out += "{\"traceId\":\"";
  out += s.trace_id;
  out += "\",\"id\":\"";
  out += s.span_id;
  out += '"';
  if (!s.parent_id.empty()) {
    out += ",\"parentId\":\"";
    out += s.parent_id;
    out += '"';
  }
  out += s.server ? ",\"kind\":\"SERVER\"," : ",\"kind\":\"CLIENT\",";
  // Zipkin names are lower case. A method is a token (the parsers refuse anything else), so
  // it needs no escaping, and is lowered in place: no copy per span.
  out += "\"name\":\"";
  for (char c : s.method) {
    out += static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  }
  out += '"';
  out += ",\"timestamp\":";
  out += std::to_string(s.start_unix_us);
  out += ",\"duration\":";
  out += std::to_string(s.duration_us > 0 ? s.duration_us : 1);  // 0 means "unknown"
  out += ",\"localEndpoint\":{";
  append_string_field(out, "serviceName", s.local_service);
  out += "},\"tags\":{";
  append_string_field(out, "http.method", s.method);
  out += ',';
  append_string_field(out, "http.host", s.authority);
  out += ',';
  append_string_field(out, "http.path", s.path);
  out += ",\"http.status_code\":\"";
  out += std::to_string(s.status);
  out += '"';
  if (!s.upstream.empty()) {
    out += ',';
    append_string_field(out, "upstream", s.upstream);
  }
  if (!s.error.empty()) {
    out += ',';
    append_string_field(out, "error", s.error);
  }
  out += "}}";
}

span_exporter::span_exporter(std::string address, uint16_t port, uint32_t max_queue_spans,
                             std::atomic<uint64_t>& exported, std::atomic<uint64_t>& dropped,
                             std::chrono::milliseconds timeout)
    : address_(std::move(address)),
      port_(port),
      max_queue_spans_(max_queue_spans),
      timeout_(timeout),
      exported_(exported),
      dropped_(dropped) {
  thread_ = std::thread([this] { run(); });
}

span_exporter::~span_exporter() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void span_exporter::submit(std::string&& spans, uint32_t count) {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    if (queued_spans_ + count <= max_queue_spans_) {
      queued_spans_ += count;
      queue_.emplace_back(std::move(spans), count);
      count = 0;
    }
  }
  if (count > 0) {
    dropped_.fetch_add(count, std::memory_order_relaxed);
    return;
  }
  cv_.notify_one();
}

void span_exporter::run() {
  std::vector<std::pair<std::string, uint32_t>> batches;
  std::string body;
  for (;;) {
    bool last;
    {
      std::unique_lock<std::mutex> lock{mutex_};
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      batches.swap(queue_);
      last = stopping_;
    }
    size_t i = 0;
    while (i < batches.size()) {
      body.assign("[");
      uint32_t spans = 0;
      for (; i < batches.size() && (spans == 0 || spans + batches[i].second <= max_spans_per_post);
           ++i) {
        body += spans == 0 ? "" : ",";
        body += batches[i].first;
        spans += batches[i].second;
      }
      body += ']';
      std::string why;
      if (post(body, why)) {
        exported_.fetch_add(spans, std::memory_order_relaxed);
      } else if (last) {  // stopping: one try, not one per batch against a dead collector
        for (; i < batches.size(); ++i) {
          spans += batches[i].second;
        }
        dropped_.fetch_add(spans, std::memory_order_relaxed);
      } else {
        dropped_.fetch_add(spans, std::memory_order_relaxed);
        auto now = monotonic_seconds();
        if (last_complaint_ == 0 || now - last_complaint_ >= 60) {
          last_complaint_ = now;
          std::fprintf(stderr, "actormesh: tracing: collector %s:%u: %s; spans are dropped\n",
                       address_.c_str(), port_, why.c_str());
        }
      }
      std::lock_guard<std::mutex> lock{mutex_};
      queued_spans_ -= spans;
    }
    batches.clear();
    if (last) {
      return;
    }
  }
}

bool span_exporter::post(const std::string& body, std::string& why) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    why = std::string{"socket: "} + std::strerror(errno);
    return false;
  }
  timeval timeout{static_cast<time_t>(timeout_.count() / 1000),
                  static_cast<suseconds_t>(timeout_.count() % 1000 * 1000)};
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);  // connect() too
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port_);
  inet_pton(AF_INET, address_.c_str(), &to.sin_addr);
  std::string request = "POST /api/v2/spans HTTP/1.1\r\nHost: " + address_ +
                        "\r\nContent-Type: application/json\r\nConnection: close\r\n"
                        "Content-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body;
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    why = std::string{"connect: "} + std::strerror(errno);
  } else {
    size_t sent = 0;
    while (sent < request.size()) {
      auto n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) {
        break;
      }
      sent += static_cast<size_t>(n);
    }
    char head[64];
    auto n = sent == request.size() ? ::recv(fd, head, sizeof head - 1, 0) : -1;
    if (n >= 12 && std::strncmp(head, "HTTP/1.", 7) == 0 && head[9] == '2') {
      ok = true;
    } else {
      why = sent < request.size() ? "send failed or timed out"
            : n <= 0              ? "no answer within " + std::to_string(timeout_.count()) + " ms"
                                  : "answered " + std::string(head, std::min<size_t>(n, 12));
    }
  }
  ::close(fd);
  return ok;
}

void span_buffer::append(const span_record& s) {
  if (count_ > 0) {
    pending_ += ',';
  }
  append_zipkin_span(pending_, s);
  ++count_;
  if (pending_.size() > 64 * 1024) {
    flush();
  }
}

void span_buffer::flush() {
  if (count_ > 0 && exporter_ != nullptr) {
    exporter_->submit(std::move(pending_), count_);
    pending_ = std::string{};
    count_ = 0;
  }
}

}  // namespace am::net
