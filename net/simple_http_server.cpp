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
  session(simple_http_server& server, int fd)
      : connection(server.loop_, fd, false),
        server_(server),
        parser_(http1_parser::kind::request, *this, 64 * 1024),
        peer_(peer_ip(fd)),
        timeout_(&session::on_timeout, this) {
    ++server_.open_;
    loop_.schedule(timeout_, server_.limits_.timeout_ms);
  }

 private:
  static void on_timeout(void* p) { static_cast<session*>(p)->close(); }
  void on_closed() override {
    loop_.cancel(timeout_);
    --server_.open_;
  }

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
    loop_.schedule(timeout_, server_.limits_.timeout_ms);  // the next request has as long
    auto r = server_.handler_(simple_request{head, body_, peer_});
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

  simple_http_server& server_;
  http1_parser parser_;
  std::string peer_;
  std::string body_;
  timer timeout_;
  bool respond_ = false;
  bool closing_ = false;
};

simple_http_server::simple_http_server(std::string name, handler h, limits l)
    : name_(std::move(name)), handler_(std::move(h)), limits_(l) {}

simple_http_server::~simple_http_server() {
  stop();
  listener_.reset();
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
  listener_ =
      std::make_unique<listening_socket>(loop_, fd, name_ + " listener", [this](int client) {
        if (open_ >= limits_.max_connections) {
          ::close(client);  // at once: a full server must not hang its clients in the backlog
          return;
        }
        new session(*this, client);  // adopted by the loop
      });
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
