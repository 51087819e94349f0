// The routing decision for one request to a mesh service: which route matched, which target
// subset (weighted, sticky per user), which endpoint, and whether a fault is injected.
// Pure given the worker's pickers and random bits; the downstream connection acts on it.
#pragma once

#include <cstdint>
#include <string_view>

#include "net/http1_message.h"
#include "net/routing_snapshot.h"
#include "policy/header_source.h"

namespace am::net {

class proxy_worker;

// A message head seen as a policy::header_source.
class head_fields final : public policy::header_source {
 public:
  explicit head_fields(const message_head& head) : head_(head) {}
  virtual ~head_fields() = default;
  const std::string* find(std::string_view name) const override { return head_.find(name); }

 private:
  const message_head& head_;
};

struct route_decision {
  const config::route_spec* route = nullptr;  // null: no route matched, all endpoints
  const endpoint_subset* subset = nullptr;
  int fault_abort_status = 0;  // non-zero: answer this status without an upstream
  int64_t fault_delay_ms = 0;
  int64_t timeout_ms = 0;
  const config::retry_spec* retry = nullptr;
  const endpoint_subset* mirror = nullptr;  // non-null: also send a copy there
  // A consistent pick: the hash of the route's sticky key (a user stays on one endpoint as
  // well as one target), else of the service's consistent-hash key.
  bool hashed = false;
  uint64_t hash = 0;
};

// `path` is the origin-form target (path and query); `client_ip` the downstream's address.
route_decision decide_route(proxy_worker& worker, const route_service& svc,
                            const message_head& head, std::string_view path,
                            std::string_view client_ip);

}  // namespace am::net
