#include "net/downstream_connection.h"

#include "net/downstream_shared.h"
#include "net/h2_downstream_connection.h"
#include "net/protocol_sniffer.h"
#include "net/proxy_worker.h"
#include "net/socket.h"

namespace am::net {

using namespace downstream_detail;

namespace {

constexpr int64_t linger_ms = 2000;
constexpr size_t pipeline_backlog = 64 * 1024;
constexpr std::string_view connect_established = "HTTP/1.1 200 Connection Established\r\n\r\n";

// How long an intercepted connection's first bytes are awaited: not at all for a port
// declared opaque (a server-first protocol: the server's banner must not wait).
int64_t detect_delay_ms(const config::transparent_settings& t, const sockaddr_in& destination) {
  auto port = ntohs(destination.sin_port);
  for (auto p : t.opaque_ports) {
    if (p == port) {
      return 0;
    }
  }
  return t.detect_timeout.count();
}

}  // namespace

downstream_connection::downstream_connection(proxy_worker& worker, int fd, listener_side side,
                                             bool detect_h2, const sockaddr_in* intercepted,
                                             std::unique_ptr<tls_stream> tls)
    : connection(worker.loop(), fd, false, std::move(tls)),
      worker_(worker),
      side_(side),
      parser_(http1_parser::kind::request, *this, worker.settings().max_header_bytes),
      origin_{peer_ip(fd), intercepted != nullptr,
              intercepted != nullptr ? *intercepted : sockaddr_in{},
              intercepted != nullptr ? to_string(*intercepted) : std::string{}},
      exchange_(worker, *this, side, origin_),
      wait_timer_(&downstream_connection::on_wait_timer, this),
      detect_h2_(detect_h2) {
  worker_.on_downstream_opened(this, side_);
  if (intercepted != nullptr &&
      detect_delay_ms(worker.settings().transparent, origin_.destination) == 0) {
    detect(true);  // a declared opaque port: TCP at once (safe here: closing only retires)
    return;
  }
  arm_wait(intercepted != nullptr ? wait_mode::detect : wait_mode::idle);
}

downstream_connection::~downstream_connection() = default;

void downstream_connection::drain() {
  drain_requested_ = true;
  if (!exchange_.active() && in_.empty() && !parser_.in_message() &&
      wait_mode_ != wait_mode::tunnel_preface && wait_mode_ != wait_mode::detect) {
    close();
  }
}

// -- timers ------------------------------------------------------------------------------------

void downstream_connection::arm_wait(wait_mode mode) {
  wait_mode_ = mode;
  const auto& s = worker_.settings();
  if (mode == wait_mode::tunnel) {
    return;  // the exchange's timer covers the connect
  }
  if (mode == wait_mode::detect) {
    // To the millisecond: a server-first protocol's client waits this long for its banner.
    loop_.schedule_precise(wait_timer_, detect_delay_ms(s.transparent, origin_.destination));
    return;
  }
  auto delay = mode == wait_mode::idle     ? s.idle_timeout.count()
               : mode == wait_mode::linger ? linger_ms
                                           : s.header_timeout.count();
  loop_.schedule(wait_timer_, delay);
}

void downstream_connection::on_wait_timer(void* p) {
  auto* self = static_cast<downstream_connection*>(p);
  switch (self->wait_mode_) {
    case wait_mode::head:
      self->exchange_.fail(self->parser_.head(), proxy_error::header_timeout,
                           "request head not received within " +
                               std::to_string(self->worker_.settings().header_timeout.count()) +
                               "ms");
      break;
    case wait_mode::tunnel_preface:
      self->tunnel_to_endpoint();  // the client is silent: a server-speaks-first protocol
      break;
    case wait_mode::detect:
      self->detect(true);  // silent, or too little to tell: TCP (a server-first protocol)
      break;
    default:
      self->close();
  }
}

// -- reading requests --------------------------------------------------------------------------

void downstream_connection::on_data() {
  if (closing_) {
    in_.clear();  // lingering: discard what the client still sends
    return;
  }
  if (wait_mode_ == wait_mode::tunnel_preface) {
    check_tunnel_preface();
    return;
  }
  if (wait_mode_ == wait_mode::detect) {
    detect(false);
    return;
  }
  if (wait_mode_ == wait_mode::tunnel) {
    pause_reading(in_.size() > pipeline_backlog);  // the tunnel takes these bytes
    return;
  }
  if (detect_h2_ && !sniff_preface()) {
    return;
  }
  process_input();
}

// On an `auto` listener, the first bytes tell HTTP/2 (the connection preface) from HTTP/1.1.
// False while they can't tell yet, or once the connection became HTTP/2.
bool downstream_connection::sniff_preface() {
  bool complete = false;
  if (!h2_session::matches_preface({in_.data(), in_.size()}, complete)) {
    detect_h2_ = false;
    return true;
  }
  if (complete) {
    become_h2();
  }
  return false;
}

// An intercepted connection: HTTP to a mesh service (or to the application, inbound) is served
// request by request with the service's policies; TLS, opaque bytes, a silent client and
// HTTP to anything else go through a TCP tunnel. `final`: no more bytes will come first.
void downstream_connection::detect(bool final) {
  auto sniffed = sniff_protocol({in_.data(), in_.size()}, final);
  if (sniffed.protocol == sniffed_protocol::undecided) {
    return;
  }
  loop_.cancel(wait_timer_);
  // A declared opaque port decides at once, without a timeout.
  worker_.count_detected(sniffed.protocol, final && detect_delay_ms(worker_.settings().transparent,
                                                                    origin_.destination) > 0);
  bool http =
      sniffed.protocol == sniffed_protocol::http1 || sniffed.protocol == sniffed_protocol::http2;
  if (http && (side_ == listener_side::inbound ||
               worker_.routes().service_at(origin_.destination) != nullptr)) {
    detect_h2_ = false;
    if (sniffed.protocol == sniffed_protocol::http2) {
      become_h2();
      return;
    }
    arm_wait(wait_mode::idle);
    process_input();
    return;
  }
  tunnel_answered_ = true;  // the client gets the upstream's bytes only; a failure closes
  arm_wait(wait_mode::tunnel);
  exchange_.start_tunnel(sniffed.sni);
}

// Hands the socket, with the bytes read so far, to an HTTP/2 connection.
// The successor registers with the worker before this connection leaves it, so a drain never
// sees a moment without either.
void downstream_connection::become_h2() {
  handing_off_ = true;
  auto socket = detach();
  new h2_downstream_connection(worker_, std::move(socket), side_, &origin_);  // adopted
  worker_.on_downstream_closed(this);
}

void downstream_connection::process_input() {
  while (!in_.empty() && !closed() && !closing_) {
    if (parser_.stopped_at_message_end() || parser_.upgraded()) {
      break;  // the next request waits for this response (or the tunnel takes the bytes)
    }
    if (!parser_.in_message() && wait_mode_ == wait_mode::idle) {
      arm_wait(wait_mode::head);  // first byte of a request head: the head clock starts
    }
    auto used = parser_.feed(in_.data(), in_.size());
    if (closed() || closing_) {
      return;
    }
    in_.consume(used);
    if (parser_.error() != parse_error::none) {
      auto e = parser_.error() == parse_error::header_too_large ? proxy_error::header_too_large
               : parser_.error() == parse_error::bad_framing    ? proxy_error::bad_framing
                                                                : proxy_error::bad_request;
      exchange_.fail(parser_.head(), e, parser_.error_detail());
      return;
    }
    if (wait_mode_ == wait_mode::tunnel_preface) {
      check_tunnel_preface();  // the bytes after the CONNECT head are the tunnel's
      return;
    }
    if (used == 0) {
      break;
    }
  }
  update_reading();
}

void downstream_connection::update_reading() {
  if (closed() || closing_) {
    return;
  }
  // While a request waits for its response, later bytes (a pipelined request, or the first
  // bytes of a tunnel) stay in in_; reading goes on until that backlog is large, so that the
  // common request-response cycle never touches the epoll interest set.
  pause_reading(in_.size() > pipeline_backlog || exchange_.request_backlogged());
}

bool downstream_connection::on_head(message_head& head) {
  loop_.cancel(wait_timer_);
  chunk_response_ = false;
  close_after_response_ = drain_requested_;
  if (head.method == "CONNECT" && side_ != listener_side::ingress) {
    std::string_view host;
    uint16_t port = 0;
    if (split_authority(head.target, 443, host, port) && worker_.routes().find(host) != nullptr) {
      serve_tunnel_as_h2();
      return false;
    }
  }
  exchange_.start(head);
  return false;
}

void downstream_connection::on_body(const char* data, size_t size) {
  exchange_.request_body(data, size);
}

void downstream_connection::on_message_complete() {
  exchange_.request_complete();
}

// -- CONNECT to a mesh service -----------------------------------------------------------------

// A CONNECT naming a mesh service is answered at once; if the client then speaks HTTP/2 (a
// gRPC client that honours http_proxy) the sidecar serves its calls one by one with the
// service's policies. Other bytes (TLS, HTTP/1.1) go through a tunnel to one endpoint.
void downstream_connection::serve_tunnel_as_h2() {
  tunnel_answered_ = true;
  send(connect_established);
  arm_wait(wait_mode::tunnel_preface);
}

void downstream_connection::check_tunnel_preface() {
  if (in_.empty()) {
    return;
  }
  bool complete = false;
  if (!h2_session::matches_preface({in_.data(), in_.size()}, complete)) {
    tunnel_to_endpoint();
  } else if (complete) {
    loop_.cancel(wait_timer_);
    become_h2();
  }
}

void downstream_connection::tunnel_to_endpoint() {
  loop_.cancel(wait_timer_);
  wait_mode_ = wait_mode::idle;
  exchange_.start(parser_.head());
}

// -- the response ------------------------------------------------------------------------------

void downstream_connection::respond_head(const message_head& head, const config::header_ops* ops) {
  const auto& request = parser_.head();
  bool interim = head.status >= 100 && head.status < 200 && head.status != 101;
  if (interim && request.version_minor == 0) {
    return;  // HTTP/1.0 clients get no interim responses (RFC 9110 §15.2)
  }
  auto& out = scratch_;
  out.clear();
  out += "HTTP/1.1 ";
  append_decimal(out, static_cast<uint64_t>(head.status));
  out += ' ';
  out += head.reason.empty() ? reason_phrase(head.status) : head.reason;
  out += "\r\n";
  const auto* connection_field = head.find("connection");
  for (size_t i = 0; i < head.count; ++i) {
    const auto& f = head.fields[i];
    if (!is_hop_by_hop(connection_field, f.name) && !touched_by(ops, f.name)) {
      out += f.name;
      out += ": ";
      out += f.value;
      out += "\r\n";
    }
  }
  append_set_fields(ops, out);
  if (interim) {
    out += "\r\n";
    send(out);
    return;  // the final response follows
  }
  if (head.status == 101) {
    const auto* upgrade = head.find("upgrade");
    out += "Connection: Upgrade\r\nUpgrade: ";
    out += upgrade != nullptr ? *upgrade : std::string{};
    out += "\r\n\r\n";
    send(out);
    return;
  }
  bool no_body = request.method == "HEAD" || head.status == 204 || head.status == 304;
  if (head.has_content_length) {
    out += "Content-Length: ";
    append_decimal(out, head.content_length);
    out += "\r\n";
  } else if (!no_body) {
    // Chunked upstream, or a body that ends with the upstream's close: re-frame as chunked
    // for HTTP/1.1 clients; HTTP/1.0 clients read until we close.
    if (request.version_minor >= 1) {
      chunk_response_ = true;
      out += "Transfer-Encoding: chunked\r\n";
    } else {
      close_after_response_ = true;
    }
  }
  if (!request.keep_alive || parser_.upgraded() || worker_.draining() ||
      !exchange_.request_done()) {
    close_after_response_ = true;
  }
  if (close_after_response_) {
    out += "Connection: close\r\n";
  }
  out += "\r\n";
  send(out);
}

void downstream_connection::respond_body(const char* data, size_t size) {
  if (chunk_response_) {
    scratch_.clear();
    append_hex(scratch_, size);
    scratch_ += "\r\n";
    scratch_.append(data, size);
    scratch_ += "\r\n";
    send(scratch_);
  } else {
    send({data, size});
  }
}

// HTTP/1.1 clients get no trailers: the chunked body ends without them.
void downstream_connection::respond_end(const message_head*) {
  if (chunk_response_) {
    send("0\r\n\r\n");
  }
  if (close_after_response_ || drain_requested_) {
    close_gracefully();
    return;
  }
  parser_.resume();
  arm_wait(wait_mode::idle);
  process_input();
}

void downstream_connection::respond_error(int status, std::string_view error,
                                          const std::string& detail, int) {
  if (exchange_.response_started() || tunnel_answered_) {
    close();  // the response (or the tunnel) is under way: the client sees it cut
    return;
  }
  std::string body{error};
  body += ": ";
  body += detail;
  body += "\n";
  auto& out = scratch_;
  out.clear();
  out += "HTTP/1.1 ";
  append_decimal(out, static_cast<uint64_t>(status));
  out += ' ';
  out += reason_phrase(status);
  out += "\r\nContent-Type: text/plain\r\nContent-Length: ";
  append_decimal(out, body.size());
  out += "\r\nx-actormesh-error: ";
  out += error;
  out += "\r\nConnection: close\r\n\r\n";
  out += body;
  send(out);
  close_gracefully();
}

// -- tunnels -----------------------------------------------------------------------------------

void downstream_connection::on_tunnel_ready(tunnel_end& upstream) {
  if (!tunnel_answered_) {
    send(connect_established);
  }
  auto* client = new tunnel_end(loop_, detach());
  client->watch(&worker_);
  tunnel_end::join(*client, upstream);
}

void downstream_connection::on_upgraded(upstream_connection& c) {
  auto* server = new tunnel_end(loop_, c.detach());
  auto* client = new tunnel_end(loop_, detach());
  client->watch(&worker_);
  tunnel_end::join(*client, *server);
}

// -- closing -----------------------------------------------------------------------------------

// Half-closes after the last byte and reads until the client closes (or a linger timeout), so
// that the client reads our response instead of a reset caused by its own unread bytes.
void downstream_connection::close_gracefully() {
  if (closing_ || closed()) {
    return;
  }
  closing_ = true;
  arm_wait(wait_mode::linger);
  pause_reading(false);
  if (pending_output() == 0) {
    shutdown_write();
  }
}

void downstream_connection::on_drained() {
  if (closing_) {
    shutdown_write();
    return;
  }
  exchange_.on_response_drained();
}

void downstream_connection::on_eof(int error) {
  if (error == tls_failure) {
    worker_.count(protection_event::tls_refused, origin_.ip + ": " + describe(error));
  }
  exchange_.abandon("client_closed");
  close();
}

void downstream_connection::on_closed() {
  loop_.cancel(wait_timer_);
  exchange_.abandon("client_closed");
  if (!handing_off_) {
    worker_.on_downstream_closed(this);
  }
}

}  // namespace am::net
