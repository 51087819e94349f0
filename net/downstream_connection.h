// A client connection to one of the sidecar's listeners (outbound or inbound), speaking
// HTTP/1.1. It parses each request, chooses where it goes, streams it to an upstream
// connection and streams the response back. One exchange at a time: HTTP/1.1 has one
// stream per connection, and a pipelined request waits for the response before it.
//
//   waiting ──head──► routing ──connected──► exchanging ──response done──► waiting
//      │                 │                        │                           (keep-alive)
//      └─timeout/bad─────┴──error response────────┴──────► closing (FIN, linger, close)
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "net/connection.h"
#include "net/http1_parser.h"
#include "net/proxy_error.h"
#include "net/request_routing.h"
#include "net/timer_wheel.h"
#include "net/tunnel.h"
#include "net/upstream_connection.h"
#include "policy/retry_policy.h"

namespace am::net {

class proxy_worker;
struct traffic_stats;

enum class listener_side { outbound, inbound };

class downstream_connection final : public connection,
                                    private http1_parser::sink,
                                    private upstream_events,
                                    private tunnel_connect_events {
 public:
  downstream_connection(proxy_worker& worker, int fd, listener_side side);
  ~downstream_connection() override;

  // Closes at once when idle, otherwise after the current response.
  void drain();

 private:
  enum class wait_mode { idle, head, linger };

  // -- http1_parser::sink --
  bool on_head(message_head& head) override;
  void on_body(const char* data, size_t size) override;
  void on_message_complete() override;

  // -- upstream_events --
  void on_upstream_head(message_head& head) override;
  void on_upstream_body(const char* data, size_t size) override;
  void on_upstream_complete() override;
  void on_upstream_error(proxy_error e, const std::string& detail, bool retryable) override;
  void on_upstream_drained() override;
  void on_upstream_switched(upstream_connection& c) override;

  // -- tunnel_connect_events --
  void on_tunnel_connected(tunnel_end& end, int error) override;

  // -- connection --
  void on_data() override;
  void on_eof(int error) override;
  void on_drained() override;
  void on_closed() override;

  void process_input();
  void update_reading();
  void begin_exchange(const message_head& head);
  void route(const message_head& head);
  void route_outbound(const message_head& head, std::string_view authority);
  bool enter_service(const route_service& svc, const message_head& head);
  void route_to_service(const route_service& svc, const message_head& head);
  bool admit_inbound(const message_head& head);
  std::optional<uint32_t> pick_endpoint();
  void start_attempt();
  void send_mirror();
  bool try_retry(const policy::attempt_outcome& outcome);
  void release_snapshot();
  void resolve_then(std::string_view host, uint16_t port,
                    void (downstream_connection::*next)(const sockaddr_in&));
  void build_upstream_head(const message_head& head, std::string_view authority,
                           std::string_view path, const config::header_ops* ops, bool mark_caller);
  void dispatch(const sockaddr_in& address);
  void start_connect(const message_head& head);
  void connect_tunnel(const sockaddr_in& address);
  void connect_to_service(const route_service& svc, const message_head& head);
  void open_tunnel(const sockaddr_in& address, int64_t timeout_ms);
  void send_error(proxy_error e, const std::string& detail);
  void finish_exchange();
  void record_exchange();
  void close_gracefully();
  void arm_wait(wait_mode mode);
  static void on_wait_timer(void* self);
  static void on_request_timer(void* self);
  static void on_deadline_timer(void* self);
  static void on_backoff_timer(void* self);

  proxy_worker& worker_;
  listener_side side_;
  http1_parser parser_;
  std::string client_ip_;
  timer wait_timer_;
  timer request_timer_;   // one try: per_try_timeout (mesh services) or the whole timeout
  timer deadline_timer_;  // the whole request across retries (mesh services)
  timer backoff_timer_;   // the wait before a retry, or an injected delay
  wait_mode wait_mode_ = wait_mode::idle;
  bool closing_ = false;
  bool drain_requested_ = false;

  // -- the current exchange (strings keep their capacity across requests) --
  bool active_ = false;
  bool recorded_ = true;
  upstream_connection* upstream_ = nullptr;
  tunnel_end* pending_tunnel_ = nullptr;
  std::shared_ptr<downstream_connection*> resolve_token_;
  std::string upstream_head_;
  std::string pending_body_;  // request body received before the upstream was chosen
  std::string request_id_;
  std::string method_;
  std::string authority_;
  std::string path_;
  std::string upstream_key_;
  std::string error_;
  std::string scratch_;
  traffic_stats* stats_ = nullptr;
  sockaddr_in upstream_address_{};
  int64_t timeout_ms_ = 0;
  std::chrono::steady_clock::time_point start_;
  int64_t start_unix_ms_ = 0;
  int status_ = 0;
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  bool request_done_ = false;
  bool request_chunked_ = false;
  bool request_has_body_ = false;
  bool head_request_ = false;
  bool response_started_ = false;
  bool chunk_response_ = false;
  bool client_keep_alive_ = true;
  bool close_after_response_ = false;
  bool retried_ = false;  // the one free re-send after a stale keep-alive connection

  // -- mesh-service exchanges: route, retries --
  const route_service* service_ = nullptr;  // valid while the snapshot is held
  route_decision decision_;
  uint64_t snapshot_id_ = 0;
  bool holds_snapshot_ = false;
  unsigned attempts_ = 0;
  bool retrying_ = false;        // counted in stats_->retries_active
  uint32_t endpoint_index_ = 0;  // of the current attempt, in service_->endpoints
  std::string retry_body_;       // the request body as sent, framed, while it may be re-sent
  bool body_replayable_ = true;
  bool mirror_pending_ = false;  // a mirror copy waits for the end of the request body
  std::string mirror_body_;
  bool counted_active_ = false;  // raised stats_->active, to lower when recorded
  int client_minor_ = 1;
};

}  // namespace am::net
