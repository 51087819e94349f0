// Smooth weighted round robin (the nginx algorithm, ngx_http_upstream_get_peer in
// src/http/ngx_http_upstream_round_robin.c): each step adds every candidate's weight to its
// current value, takes the largest and subtracts the total from it. Over one cycle of
// sum(weights) picks every candidate is chosen exactly `weight` times, and heavy ones are spread
// out instead of picked in bursts ({5, 1, 1} gives a a b a c a a).
//
// Only candidates take part (lb/picker.h): an ineligible member neither accumulates nor is
// chosen, and the total is the sum of the candidates' weights, so an ejected heavy member cannot
// hold the cycle.
//
// Cost: the sequence repeats every sum(weights / gcd) picks, so update() runs the O(n) step once
// per pick of one cycle and records it, and pick() replays it in O(1); with equal weights the
// cycle is the candidates themselves. A cycle longer than `max_cycle` (4096 picks, 16 KiB), or
// one that would take more than 2^20 element steps to record, is not recorded: pick() runs the
// O(n) step itself, a tight scan of two arrays (about 1 ns per candidate), which is right for the
// tens of endpoints a service has; a large set with large, coprime weights would want Envoy's
// EdfScheduler, O(log n).
#pragma once

#include <vector>

#include "lb/picker.h"

namespace am::lb {

class round_robin_picker final : public picker {
 public:
  static constexpr size_t default_max_cycle = 4096;

  // `max_cycle`: the longest cycle to record (0 always scans, for tests of the scan).
  explicit round_robin_picker(size_t max_cycle = default_max_cycle) : max_cycle_(max_cycle) {}

  // Restarts the weighted cycle, as nginx does on a weight change; a plain rotation resumes at the
  // member it was due to pick, so that flapping eligibility does not favour the first member.
  void update(const std::vector<member>& members) override;

  // The next candidate of the cycle; ignores every field of `in`.
  std::optional<size_t> pick(const pick_input& in) override;

 private:
  // -- weighted step ----------------------------------------------------------------------------

  // One step of nginx's algorithm: the index (into positions_) of the candidate it picks.
  size_t step();

  // Records one cycle into cycle_ when it is short enough, leaving current_ at zero.
  void record_cycle();

  // -- state ------------------------------------------------------------------------------------

  size_t max_cycle_;
  std::vector<uint32_t> positions_;  // of the candidates
  std::vector<int64_t> weights_;     // parallel: the candidates' weights over their gcd
  std::vector<int64_t> current_;     // parallel: nginx's current weights
  int64_t total_ = 0;                // sum of weights_: the cycle's length
  std::vector<uint32_t> cycle_;      // member positions in pick order; empty when scanning
  size_t next_ = 0;                  // index into cycle_ of the next pick
  bool rotation_ = false;            // equal weights: cycle_ is positions_
};

}  // namespace am::lb
