// What one worker keeps about a mesh service across routing snapshots (DESIGN.md §3.6): its
// breaker health, retry tokens and usage, outcomes waiting for the next flush, and per
// endpoint the requests in flight and the ejection flags. Everything here is keyed by the
// service's name and its endpoints' ids, never by a position in one snapshot, so a swap that
// changes one service leaves every other one as it was, and a request routed on an older
// snapshot records against its own service and endpoint. Loop thread only.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "lb/picker.h"
#include "net/load_report.h"
#include "net/routing_snapshot.h"
#include "net/service_health.h"

namespace am::net {

// One endpoint of a service as this worker sees it.
struct endpoint_state {
  endpoint_id id = 0;
  std::string key;             // "ip:port"
  uint32_t active = 0;         // this worker's attempts in flight to it
  bool ejected = false;        // from the service's health
  bool probation = false;      // back from ejection: one request per worker decides
  bool probed = false;         // this worker's probe request is out (while on probation)
  uint32_t global_weight = 0;  // from the global-lb (`lb: global`); 0: none
  // Attempts completed since the last load report (`lb: global` services only).
  uint64_t completed = 0;
  uint64_t errors = 0;
  uint64_t latency_us = 0;

  bool eligible() const { return !ejected && !(probation && probed); }
};

using endpoint_state_ptr = std::shared_ptr<endpoint_state>;

struct service_state;

// The picker of one endpoint subset. Consecutive snapshots share it while the subset keeps
// the same members (ids, in order) with the same weights, priorities and algorithm, so a swap
// resets no round-robin position it did not change. Members are the endpoints' states, kept
// alive here for requests still routed on a snapshot that names them.
//
// Members are grouped by locality priority (lb/locality): a pick first draws a priority by
// its share of the traffic (recomputed from eligibility on each refresh), then the priority's
// own picker chooses among its members. With one priority (no locality) the draw is skipped.
//
// An `lb: global` service picks at random by the global-lb's weights while they are fresh,
// and by local least request on the configured weights when they are not; a refresh switches.
class subset_picker {
 public:
  struct member {
    endpoint_state_ptr state;
    uint32_t weight = 1;
    uint64_t identity = 0;
    uint8_t priority = 0;
  };

  // `service` outlives the picker (both are held by the snapshots that use them).
  subset_picker(const service_state& service, lb::algorithm algorithm, std::vector<member> members,
                double overprovisioning);

  // Whether `subset` of `svc` has exactly these members, weights, priorities and algorithm.
  bool serves(const route_service& svc, const endpoint_subset& subset,
              lb::algorithm algorithm) const;

  // Tells the pickers which members are eligible now (after a health change), and
  // recomputes the priorities' shares.
  void refresh();

  // A member position, or nothing when the subset is empty. `hash` (when given) picks on
  // consistent-hash rings, made on first use, and draws the priority from the hash too;
  // otherwise the subset's algorithm decides. `tried` (a retry's failed endpoints): a priority
  // drawn whose members all failed this request gives way to the next (after Envoy's
  // previous_priorities), since it keeps its share until they are ejected.
  std::optional<size_t> pick(uint64_t random, const uint64_t* hash,
                             std::span<const endpoint_state* const> tried = {});

  endpoint_state& member_state(size_t position) const { return *members_[position].state; }
  // The share of traffic members of `priority` get now (0 when it has none).
  double share_of(uint8_t priority) const;

 private:
  // The members of one priority, with their own pickers.
  struct level final : lb::load_view {
    const subset_picker* owner = nullptr;
    uint8_t priority = 0;
    std::vector<size_t> positions;  // into members_
    lb::picker_ptr picker;
    lb::picker_ptr ring;  // for hashed picks of a picker that does not hash
    double share = 0;
    uint64_t below = 0;  // a draw under this (and above the previous level's) picks it

    uint32_t active(size_t m) const override { return owner->members_[positions[m]].state->active; }
  };

  std::vector<lb::member> view(const level& l) const;
  lb::algorithm algorithm_now() const;

  const service_state& service_;
  lb::algorithm algorithm_;  // as configured: what the picker is shared by
  lb::algorithm current_;    // in use (differs for `lb: global`)
  double overprovisioning_;
  std::vector<member> members_;
  std::vector<std::unique_ptr<level>> levels_;  // by priority, closest first
};

using subset_picker_ptr = std::shared_ptr<subset_picker>;

struct service_state {
  explicit service_state(std::string n) : name(std::move(n)) {}

  // The state of endpoint `id`, made on first use (for the newest snapshot's endpoints).
  const endpoint_state_ptr& endpoint(endpoint_id id, const std::string& key);
  // Takes the global-lb's weights for this service (at loop time `now_ms`).
  void apply(const service_weights& weights, int64_t now_ms);
  // Whether picks use the global-lb's weights now.
  bool global_weights_in_force() const { return global && weights_fresh; }
  // Applies a new health decision to the endpoints and refreshes the pickers.
  void apply(service_health_ptr h);
  // Refreshes the pickers of this service that are still alive.
  void refresh_pickers();

  std::string name;
  std::unordered_map<endpoint_id, endpoint_state_ptr> endpoints;
  std::vector<std::weak_ptr<subset_picker>> pickers;
  service_health_ptr health;  // null: closed, nothing ejected
  uint64_t probe_epoch = 0;   // the breaker's half-open round of probes_used
  uint32_t probes_used = 0;
  uint64_t retry_tokens = 0;  // leased by the service's retry actor
  uint64_t requests = 0;      // since the last usage report
  uint64_t retries = 0;
  outcome_batch outcomes;  // since the last flush
  std::shared_ptr<outcome_sink> sink;
  std::shared_ptr<usage_sink> usage;
  traffic_stats* stats = nullptr;  // where the balancing mode is shown
  bool global = false;             // `lb: global`
  bool weights_fresh = false;      // the global-lb's weights are in force
  int64_t weights_at_ms = 0;       // when they came (loop time)
};

using service_state_ptr = std::shared_ptr<service_state>;

// A routing snapshot as one worker holds it: with the worker's state for each of its services
// and a picker for each of its subsets (both shared with other snapshots, see service_state).
// Lives while it is the current one or an exchange holds it.
struct snapshot_slot {
  routing_snapshot_ptr snapshot;
  size_t users = 0;
  std::vector<service_state_ptr> services;  // by route_service::index
  std::vector<subset_picker_ptr> pickers;   // by endpoint_subset::picker
};

// An endpoint chosen for one attempt: its index in the service's endpoints (of the snapshot
// it was picked on) and this worker's state of it.
struct endpoint_pick {
  uint32_t index = 0;
  endpoint_state* state = nullptr;
};

}  // namespace am::net
