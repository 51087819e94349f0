// One request and its response, whatever the protocol on either side: the route it takes
// (mesh service with its subset, headers, retries, mirror and faults; pass-through; inbound
// with its access rules; CONNECT), each attempt on an upstream channel, the timers, and the
// record (metrics, access log, outcomes for the breaker). An HTTP/1.1 connection owns one
// and reuses it request after request; an HTTP/2 connection owns one per stream.
//
// The exchange talks to its downstream through `exchange_client` (the codec formats the
// response) and to its upstream through `upstream_channel` (an HTTP/1.1 connection, or a
// stream of an HTTP/2 connection), so the protocols on both sides combine freely.
#pragma once

#include <netinet/in.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "net/downstream.h"
#include "net/h2_session.h"
#include "net/proxy_error.h"
#include "net/request_routing.h"
#include "net/service_state.h"
#include "net/timer_wheel.h"
#include "net/trace_context.h"
#include "net/tunnel.h"
#include "net/upstream_connection.h"
#include "net/upstream_pool.h"
#include "policy/retry_policy.h"

namespace am::net {

class proxy_worker;
struct traffic_stats;

// Where a client connection came in: the outbound listener (the local app calling the mesh),
// the inbound one (the mesh calling the local app) or federation's ingress (peer clusters
// calling this cluster's exported services; nothing else).
enum class listener_side { outbound, inbound, ingress };

// What an exchange asks of the connection that received its request.
class exchange_client {
 public:
  // The response head: final, or interim (1xx); `ops` are the route's response header
  // operations (null: none).
  virtual void respond_head(const message_head& head, const config::header_ops* ops) = 0;
  virtual void respond_body(const char* data, size_t size) = 0;
  // The response is complete (`trailers` null when the upstream sent none). The exchange is
  // recorded and idle when this is called: the client may start the next one at once.
  virtual void respond_end(const message_head* trailers) = 0;
  // The sidecar's own answer to a failed exchange (recorded, idle). `grpc_status` >= 0 when
  // the request is a gRPC call. If the response had started, the client ends it as broken.
  virtual void respond_error(int status, std::string_view error, const std::string& detail,
                             int grpc_status) = 0;
  // Whether the client has so much response output queued that the upstream should pause.
  virtual bool response_backlogged() const = 0;
  // The upstream took the request bytes queued so far: the client may read more.
  virtual void on_request_drained() = 0;
  // A CONNECT's upstream end is connected (HTTP/1.1 only): answer 200 and join the tunnel.
  virtual void on_tunnel_ready(tunnel_end& upstream) = 0;
  // The upstream switched protocols (101, HTTP/1.1 only): tunnel the two sockets.
  virtual void on_upgraded(upstream_connection& upstream) = 0;

 protected:
  ~exchange_client() = default;
};

class exchange final : private upstream_events, private tunnel_connect_events {
 public:
  exchange(proxy_worker& worker, exchange_client& client, listener_side side,
           const client_origin& origin);
  ~exchange();
  exchange(const exchange&) = delete;
  exchange& operator=(const exchange&) = delete;

  // A request head arrived: route it and start the first attempt (or the tunnel).
  void start(const message_head& head);
  // An intercepted connection whose bytes are not HTTP (TLS, a server-first protocol, or
  // anything else): a TCP tunnel to its destination's service (or to the service a TLS
  // ClientHello's `sni` names), else to the destination itself. The client gets no answer of
  // ours, only the upstream's bytes; a failure closes the connection.
  void start_tunnel(std::string_view sni);
  void request_body(const char* data, size_t size);
  void request_complete();
  // The request can't be served (bad syntax, a header timeout): answer with the error.
  // `head` describes the request as far as it was read.
  void fail(const message_head& head, proxy_error e, const std::string& detail);
  // The client went away or cancelled the stream: the upstream side is abandoned (an HTTP/2
  // upstream stream is reset) and the exchange recorded with `why`.
  void abandon(const char* why);
  // The client's response output drained: the upstream may send more.
  void on_response_drained();

  bool active() const { return active_; }
  bool request_done() const { return request_done_; }
  bool response_started() const { return response_started_; }
  // The upstream is full, or body bytes wait for an upstream: stop reading the request.
  bool request_backlogged() const;

 private:
  // -- upstream_events --
  void on_upstream_head(message_head& head) override;
  void on_upstream_body(const char* data, size_t size) override;
  void on_upstream_trailers(message_head& trailers) override;
  void on_upstream_complete() override;
  void on_upstream_error(proxy_error e, const std::string& detail, bool retryable) override;
  void on_upstream_drained() override;
  void on_upstream_switched(upstream_connection& c) override;
  // The response's head is the client's from here: the outcome is recorded, a retry on its
  // status tried, the head sent.
  void start_response(message_head& head);
  bool should_hold(const message_head& head) const;
  // -- tunnel_connect_events --
  void on_tunnel_connected(tunnel_end& end, int error) override;

  void begin(const message_head& head);
  void begin_trace(const message_head& head);
  void route(const message_head& head);
  bool check_loop(const message_head& head);
  void refuse_loop(const std::string& detail);
  void route_outbound(const message_head& head, std::string_view authority);
  void refuse_at_ingress(std::string_view host);
  void route_intercepted(const message_head& head);
  bool enter_service(const route_service& svc, const message_head& head);
  void route_to_service(const route_service& svc, const message_head& head);
  bool admit_inbound(const message_head& head);
  void choose_upstream_protocol(config::app_protocol protocol);
  std::optional<endpoint_pick> pick_endpoint();
  void end_attempt();
  void start_attempt();
  void send_mirror();
  bool try_retry(const policy::attempt_outcome& outcome);
  void record_outcome(int status);
  void release_snapshot();
  void release_upstream();
  void loop_cancel_all();
  void resolve_then(std::string_view host, uint16_t port,
                    void (exchange::*next)(const sockaddr_in&));
  void build_upstream_request(const message_head& head, std::string_view authority,
                              std::string_view path, const config::header_ops* ops,
                              bool mark_caller);
  void dispatch(const sockaddr_in& address);
  bool open_upstream(const sockaddr_in& address, const upstream_pool::limits& limits,
                     upstream_pool::acquire_error& why, std::string& error);
  void count_attempt();
  void start_connect(const message_head& head);
  void connect_tunnel(const sockaddr_in& address);
  void connect_to_service(const route_service& svc, const message_head& head);
  void open_tunnel(const sockaddr_in& address, int64_t timeout_ms);
  void send_error(proxy_error e, const std::string& detail);
  void finish();
  void record();
  void arm_passthrough_timeouts();
  static void on_request_timer(void* self);
  static void on_deadline_timer(void* self);
  static void on_backoff_timer(void* self);

  proxy_worker& worker_;
  exchange_client& client_;
  listener_side side_;
  const client_origin& origin_;
  timer request_timer_;   // one try: per_try_timeout (mesh services) or the whole timeout
  timer deadline_timer_;  // the whole request across retries; a gRPC call's whole deadline
  timer backoff_timer_;   // the wait before a retry, or an injected delay

  // -- the current exchange (strings keep their capacity across requests) --
  bool active_ = false;
  bool recorded_ = true;
  upstream_channel* upstream_ = nullptr;
  message_head* trailers_ = nullptr;  // the upstream's, between its trailers and complete
  tunnel_end* pending_tunnel_ = nullptr;
  std::shared_ptr<exchange*> resolve_token_;
  bool upstream_h2_ = false;       // this exchange's upstream speaks HTTP/2
  bool upstream_tls_ = false;      // this attempt's endpoint asks for mesh TLS
  std::string upstream_head_;      // HTTP/1.1 upstreams: the head without attempt and blank line
  h2_field_list upstream_fields_;  // HTTP/2 upstreams: the request's header block
  std::string pending_body_;       // request body received before the upstream was chosen
  std::string request_id_;
  hop_trace trace_;
  std::string method_;
  std::string authority_;
  std::string path_;
  std::string upstream_key_;
  std::string error_;
  std::string scratch_;
  traffic_stats* stats_ = nullptr;
  sockaddr_in upstream_address_{};
  int64_t timeout_ms_ = 0;
  int64_t grpc_deadline_ms_ = 0;  // a gRPC call's grpc-timeout (0: none)
  std::chrono::steady_clock::time_point start_;
  int64_t start_unix_ms_ = 0;
  int status_ = 0;
  int grpc_status_ = -1;  // the call's gRPC status, once known
  uint64_t bytes_in_ = 0;
  uint64_t bytes_out_ = 0;
  bool request_done_ = false;
  bool request_chunked_ = false;
  bool request_has_body_ = false;
  bool head_request_ = false;
  bool response_started_ = false;
  bool grpc_ = false;             // content-type application/grpc
  bool outcome_pending_ = false;  // a gRPC call's outcome waits for its trailers
  bool retried_ = false;          // the one free re-send after a stale keep-alive connection
  // A small response that a reset could still retry is held until it is whole, so that an
  // endpoint dying mid-response is retried instead of cutting the client's response short.
  // Its body nearly always comes with its head: holding costs a copy of the head, no wait.
  static constexpr uint64_t hold_limit = 16 * 1024;
  bool holding_ = false;
  message_head held_head_;  // kept with its capacity from one exchange to the next
  std::string held_body_;

  // -- mesh-service exchanges: route, retries --
  // The snapshot it was routed on (held until the end), its service there and this worker's
  // state of that service and of the current attempt's endpoint: all valid while held.
  snapshot_slot* slot_ = nullptr;
  const route_service* service_ = nullptr;
  service_state* service_state_ = nullptr;
  endpoint_state* endpoint_ = nullptr;  // counted in endpoint_->active while set
  // Every endpoint this request tried, in order: a retry avoids the last one and leaves a
  // locality priority whose members all failed it (capacity kept between requests).
  std::vector<const endpoint_state*> tried_;
  std::chrono::steady_clock::time_point attempt_start_;
  route_decision decision_;
  unsigned attempts_ = 0;
  bool retrying_ = false;   // counted in stats_->retries_active
  std::string retry_body_;  // the request body as received, while it may be re-sent
  bool body_replayable_ = true;
  bool mirror_pending_ = false;  // a mirror copy waits for the end of the request body
  std::string mirror_body_;
  bool counted_active_ = false;  // raised stats_->active, to lower when recorded
};

}  // namespace am::net
