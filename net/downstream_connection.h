// A client connection to one of the sidecar's listeners (outbound or inbound) speaking
// HTTP/1.1: it parses each request and hands it to its exchange, which routes it, and writes
// the response the exchange passes back. One exchange at a time: HTTP/1.1 has one stream per
// connection, and a pipelined request waits for the response before it.
//
//   waiting ──head──► exchanging ──response done──► waiting (keep-alive)
//      │                  │
//      └─timeout/bad──────┴──error response──► closing (FIN, linger, close)
//
// HTTP/2 arrives here too: on an `auto` listener the connection preface hands the socket to
// an h2_downstream_connection, and so does a CONNECT to a mesh service whose tunnel carries
// HTTP/2 (a gRPC client that honours http_proxy): its calls are then served one by one.
#pragma once

#include <string>

#include "config/model.h"
#include "net/connection.h"
#include "net/downstream.h"
#include "net/exchange.h"
#include "net/http1_parser.h"
#include "net/timer_wheel.h"

namespace am::net {

class proxy_worker;

class downstream_connection final : public connection,
                                    public downstream,
                                    private http1_parser::sink,
                                    private exchange_client {
 public:
  // `intercepted`: the connection's destination (transparent mode): its protocol is detected
  // from its first bytes, and HTTP requests go there whatever their Host says (see
  // client_origin); null for a connection that spoke to the listener. `tls`: the listener's
  // TLS session for it (the federation ingress).
  downstream_connection(proxy_worker& worker, int fd, listener_side side, bool detect_h2,
                        const sockaddr_in* intercepted = nullptr,
                        std::unique_ptr<tls_stream> tls = {});
  ~downstream_connection() override;

  // Closes at once when idle, otherwise after the current response.
  void drain() override;

 private:
  // `detect`: an intercepted connection's first bytes are awaited; `tunnel`: its bytes wait
  // for the tunnel being connected.
  enum class wait_mode { idle, head, linger, tunnel_preface, detect, tunnel };

  // -- http1_parser::sink --
  bool on_head(message_head& head) override;
  void on_body(const char* data, size_t size) override;
  void on_message_complete() override;

  // -- exchange_client --
  void respond_head(const message_head& head, const config::header_ops* ops) override;
  void respond_body(const char* data, size_t size) override;
  void respond_end(const message_head* trailers) override;
  void respond_error(int status, std::string_view error, const std::string& detail,
                     int grpc_status) override;
  bool response_backlogged() const override { return over_high_watermark(); }
  void on_request_drained() override { update_reading(); }
  void on_tunnel_ready(tunnel_end& upstream) override;
  void on_upgraded(upstream_connection& upstream) override;

  // -- connection --
  void on_data() override;
  void on_eof(int error) override;
  void on_drained() override;
  void on_closed() override;

  void detect(bool final);
  void process_input();
  bool sniff_preface();
  void serve_tunnel_as_h2();
  void check_tunnel_preface();
  void tunnel_to_endpoint();
  void become_h2();
  void update_reading();
  void close_gracefully();
  void arm_wait(wait_mode mode);
  static void on_wait_timer(void* self);

  proxy_worker& worker_;
  listener_side side_;
  http1_parser parser_;
  client_origin origin_;
  exchange exchange_;
  timer wait_timer_;
  wait_mode wait_mode_ = wait_mode::idle;
  std::string scratch_;
  bool detect_h2_;  // the next bytes may be the HTTP/2 preface
  bool closing_ = false;
  bool drain_requested_ = false;
  bool tunnel_answered_ = false;  // a CONNECT to a mesh service was answered 200 by us
  bool handing_off_ = false;      // the socket goes to an HTTP/2 connection (become_h2)
  bool chunk_response_ = false;
  bool close_after_response_ = false;
};

}  // namespace am::net
