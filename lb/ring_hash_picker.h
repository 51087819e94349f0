// Consistent hashing on a ring (Karger et al., "Consistent Hashing and Random Trees", STOC 1997;
// Envoy's RingHashLoadBalancer is the reference): every candidate owns points on a 64-bit ring,
// placed by mixing (identity, replica number), and a request goes to the owner of the first point
// at or after its key. Adding or removing an endpoint moves only the keys between its points and
// their predecessors, about 1/n of them.
//
// Points per candidate: `points_per_unit` times its weight over a weight unit, the largest power
// of two not above the smallest candidate weight (so {1, 3} gives 128 and 384 points, and equal
// weights give 128 to 256 points each, whatever the weights are). Envoy scales every endpoint's
// points to the total weight, so removing one of n endpoints also moves about 1/n of the keys
// between endpoints that stayed. Here a candidate's points depend only on its own weight and the
// unit: while the unit stays (the smallest weight within the same power of two, the ring within
// `max_points`), a key moves only to or from the endpoint that changed. The price is a ring that
// grows with the set (1,280 points for 10 equal endpoints, 12,800 for 100) instead of staying
// near 1024. Above `max_points` the unit doubles, which halves every candidate's points (each
// keeps its first half, so about half of the keys move, once), but never below `min_points`.
//
// Cost: O(p log p) in update() for p points (12 bytes each, plus a 1 to 2 byte index per point).
// A pick mixes the key, reads the index entry for the key's top bits, which bounds the search to
// the 2 to 4 points of its bucket on average, and finishes with a branch-free binary search: O(1)
// expected and O(log p) at worst, and two cache lines instead of a search over the whole ring.
#pragma once

#include <vector>

#include "lb/candidates.h"
#include "lb/picker.h"

namespace am::lb {

class ring_hash_picker final : public picker {
 public:
  // Points per weight unit: with 128, a member's share of the keys is within about 10% of its
  // weight's share (the spread of 128 random arcs), where Envoy's default 1024-point ring gives
  // 10 endpoints about 100 points each and 100 endpoints about 10.
  static constexpr uint64_t points_per_unit = 128;
  // The ring's size above which the weight unit doubles: 384 KiB, 256 equal endpoints.
  static constexpr uint64_t max_points = uint64_t{1} << 15;
  // The fewest points a candidate gets, so that a light member of a capped ring is still spread.
  static constexpr uint64_t min_points = 8;

  // Rebuilds the ring over the candidates; the same identities and weights give the same ring in
  // any member order.
  void update(const std::vector<member>& members) override;

  // The owner of the first point at or after mix64(in.hash), wrapping past the end of the ring.
  std::optional<size_t> pick(const pick_input& in) override;

  // The ring's size, for tests and for the update path's memory accounting.
  size_t points() const { return points_.size(); }

 private:
  // Finds the weight unit for `candidates` and returns the points each gets, in order.
  static std::vector<uint64_t> points_per_candidate(const std::vector<candidate>& candidates);

  // Fills index_ for points_, with a bucket per 2 to 4 points.
  void build_index();

  std::vector<uint64_t> points_;  // sorted
  std::vector<uint32_t> owners_;  // parallel to points_: member positions
  // index_[b]: the first point at or after b << index_shift_, for every bucket b and one past the
  // last, so that a key's first point is in [index_[b], index_[b + 1]].
  std::vector<uint32_t> index_;
  int index_shift_ = 63;
};

}  // namespace am::lb
