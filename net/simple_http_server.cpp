#include "net/simple_http_server.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/connection.h"
#include "net/http1_parser.h"
#include "net/proxy_error.h"
#include "net/socket.h"

namespace am::net {

namespace {

constexpr size_t max_body = 1024 * 1024;

}  // namespace

class simple_http_server::session final : public connection, private http1_parser::sink {
 public:
  session(event_loop& loop, int fd, const handler& h)
      : connection(loop, fd, false),
        handler_(h),
        parser_(http1_parser::kind::request, *this, 64 * 1024),
        peer_(peer_ip(fd)) {}

 private:
  bool on_head(message_head&) override {
    body_.clear();
    return false;
  }
  void on_body(const char* data, size_t size) override {
    if (body_.size() + size <= max_body) {
      body_.append(data, size);
    }
  }
  void on_message_complete() override { respond_ = true; }

  void on_data() override {
    while (!in_.empty() && !closed()) {
      auto used = parser_.feed(in_.data(), in_.size());
      in_.consume(used);
      if (parser_.error() != parse_error::none) {
        send("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        closing_ = true;
        return;
      }
      if (respond_) {
        respond_ = false;
        answer();
        parser_.resume();
      } else if (used == 0) {
        break;
      }
    }
  }

  void answer() {
    const auto& head = parser_.head();
    auto r = handler_(simple_request{head, body_, peer_});
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " " + reason_phrase(r.status) +
                      "\r\nContent-Type: " + r.content_type +
                      "\r\nContent-Length: " + std::to_string(r.body.size()) + "\r\n";
    for (const auto& h : r.extra_headers) {
      out += h.name + ": " + h.value + "\r\n";
    }
    if (!head.keep_alive) {
      out += "Connection: close\r\n";
      closing_ = true;
    }
    out += "\r\n";
    if (head.method != "HEAD") {
      out += r.body;
    }
    send(out);
    if (closing_ && pending_output() == 0) {
      close();
    }
  }

  void on_eof(int) override { close(); }
  void on_drained() override {
    if (closing_) {
      close();
    }
  }

  const handler& handler_;
  http1_parser parser_;
  std::string peer_;
  std::string body_;
  bool respond_ = false;
  bool closing_ = false;
};

class simple_http_server::acceptor final : public io_handler {
 public:
  acceptor(event_loop& loop, int fd, const handler& h) : loop_(loop), fd_(fd), handler_(h) {
    loop_.add(fd_, EPOLLIN, this);
  }
  ~acceptor() override {
    loop_.remove(fd_);
    ::close(fd_);
  }
  void on_io(uint32_t) override {
    for (;;) {
      int fd = accept4(fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        return;
      }
      new session(loop_, fd, handler_);  // adopted by the loop
    }
  }

 private:
  event_loop& loop_;
  int fd_;
  const handler& handler_;
};

simple_http_server::simple_http_server(std::string name, handler h)
    : name_(std::move(name)), handler_(std::move(h)) {}

simple_http_server::~simple_http_server() {
  stop();
  acceptor_.reset();
}

bool simple_http_server::start(const std::string& address, uint16_t port, std::string& error) {
  sockaddr_in a{};
  if (!make_address(address, port, a)) {
    error = "bad address " + address;
    return false;
  }
  int fd = listen_tcp(a, false, error);
  if (fd < 0) {
    return false;
  }
  acceptor_ = std::make_unique<acceptor>(loop_, fd, handler_);
  thread_ = std::thread{[this] { loop_.run(); }};
  return true;
}

void simple_http_server::stop() {
  if (thread_.joinable()) {
    loop_.stop();
    thread_.join();
  }
}

}  // namespace am::net
