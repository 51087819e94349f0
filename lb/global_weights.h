// Endpoint weights from the whole mesh's view of load (the global-lb's decision, pure code).
//
// Each sidecar sees a small share of a service's traffic, so its own view of an endpoint's
// load (its requests in flight there) is mostly zero and balances no better than random. The
// global-lb merges every sidecar's per-endpoint reports for a window (requests completed,
// their latency, errors), estimates each endpoint's capacity, and splits the offered load over
// the capacities so as to minimise the mean latency (or, by choice, in proportion to them).
//
// Capacity estimate (after the M/M/1 queue, where the mean latency is L = 1 / (mu - lambda)):
// mu = lambda + 1 / L, with lambda the endpoint's completed requests per second and L their
// mean latency. An endpoint that slows down (L grows) or that is saturated shows a lower mu
// at once; one that errors has it scaled by its success ratio. Estimates are smoothed
// (an exponentially weighted mean, moved less by a window of few requests) so that weights
// do not oscillate with the load they move, and an endpoint that got no traffic in a window
// keeps its estimate. Weights are floored at
// a small share of the largest so that a recovering endpoint still gets the traffic that
// shows it recovered. Draws on: Envoy's load reports (ORCA), and join-the-shortest-queue with
// stale information (Mitzenmacher, "How useful is old information?", 2000), whose lesson is
// to balance on capacity, not on an old queue length.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace am::lb {

// What the mesh saw of one endpoint in one window, summed over every sidecar.
struct endpoint_load {
  uint64_t requests = 0;  // completed
  uint64_t errors = 0;    // of those, failed (5xx, connection failures)
  double latency_sum_s = 0;
};

struct global_weight_settings {
  double window_s = 1.0;     // how long one window of reports covers
  double smoothing = 0.5;    // weight of a new estimate against the old one
  double min_requests = 20;  // fewer in a window move the estimate proportionally less
  uint32_t scale = 1000;     // the weight of the endpoint with the largest capacity
  double floor = 0.01;       // no weight below this share of `scale`
  // How the load is split over the capacities: in proportion to them (every endpoint at the
  // same utilisation), or to minimise the mean latency (the fastest endpoints take more, and
  // at light load a much slower one nearly nothing).
  enum class rule { proportional, least_latency };
  rule split = rule::least_latency;
  // The least-latency split is planned for at least this share of the capacity in use: at
  // light load it would send everything to the one fastest endpoint, which noisy estimates
  // and multi-threaded servers (unlike the model's queues) make a hot spot; planned for half
  // the capacity it spreads over the endpoints of like speed, and a much slower one still
  // gets nearly nothing.
  double min_planned_utilisation = 0.5;
};

class global_weights {
 public:
  explicit global_weights(global_weight_settings settings = {}) : settings_(settings) {}

  // Takes one window of merged load for the service's endpoints (by address) and returns the
  // weight of each. Endpoints not named are forgotten; new ones start at the mean capacity.
  const std::map<std::string, uint32_t>& update(const std::map<std::string, endpoint_load>& window);

  const std::map<std::string, uint32_t>& weights() const { return weights_; }
  // The capacity estimate of an endpoint, requests per second (0 when unknown).
  double capacity(const std::string& endpoint) const;

 private:
  global_weight_settings settings_;
  std::map<std::string, double> capacity_;
  std::map<std::string, uint32_t> weights_;
};

}  // namespace am::lb
