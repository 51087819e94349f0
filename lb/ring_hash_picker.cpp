#include "lb/ring_hash_picker.h"

#include <algorithm>
#include <bit>
#include <tuple>

#include "lb/bits.h"

namespace am::lb {

namespace {

// The points of a weight over a unit, rounded up, never fewer than min_points.
uint64_t points_of(uint64_t weight, uint64_t unit) {
  uint64_t n = (weight * ring_hash_picker::points_per_unit + unit - 1) / unit;
  return std::max(n, ring_hash_picker::min_points);
}

// One point on the ring while it is built: sorted by point, then by identity (not position),
// so that two endpoints whose points collide are ordered the same in any member order.
struct ring_entry {
  uint64_t point;
  uint64_t identity;
  uint32_t position;

  bool operator<(const ring_entry& other) const {
    return std::tie(point, identity, position) <
           std::tie(other.point, other.identity, other.position);
  }
};

}  // namespace

std::vector<uint64_t> ring_hash_picker::points_per_candidate(
    const std::vector<candidate>& candidates) {
  uint32_t lightest = candidates.front().weight;
  for (const auto& c : candidates) {
    lightest = std::min(lightest, c.weight);
  }
  uint64_t unit = std::bit_floor(uint64_t{lightest});
  std::vector<uint64_t> counts(candidates.size());
  for (;;) {
    uint64_t total = 0;
    for (size_t i = 0; i < candidates.size(); ++i) {
      counts[i] = points_of(candidates[i].weight, unit);
      total += counts[i];
    }
    bool at_floor =
        std::all_of(counts.begin(), counts.end(), [](uint64_t n) { return n == min_points; });
    if (total <= max_points || at_floor) {
      return counts;
    }
    unit *= 2;
  }
}

void ring_hash_picker::update(const std::vector<member>& members) {
  std::vector<candidate> candidates;
  select_candidates(members, candidates);
  points_.clear();
  owners_.clear();
  index_.clear();
  if (candidates.empty()) {
    return;
  }
  auto counts = points_per_candidate(candidates);
  std::vector<ring_entry> ring;
  for (size_t i = 0; i < candidates.size(); ++i) {
    uint32_t position = candidates[i].position;
    uint64_t identity = members[position].identity;
    // Replica r sits at mix64(mix64(identity) + r * gamma): the splitmix64 stream seeded by the
    // identity, so a member's first k points stay put when it gets more.
    uint64_t seed = mix64(identity);
    for (uint64_t r = 0; r < counts[i]; ++r) {
      ring.push_back({mix64(seed + (r + 1) * golden_gamma), identity, position});
    }
  }
  std::sort(ring.begin(), ring.end());
  points_.reserve(ring.size());
  owners_.reserve(ring.size());
  for (const auto& e : ring) {
    points_.push_back(e.point);
    owners_.push_back(e.position);
  }
  build_index();
}

void ring_hash_picker::build_index() {
  int bits = std::max(1, static_cast<int>(std::bit_width(points_.size())) - 2);
  index_shift_ = 64 - bits;
  size_t buckets = size_t{1} << bits;
  index_.assign(buckets + 1, static_cast<uint32_t>(points_.size()));
  size_t i = 0;
  for (size_t b = 0; b < buckets; ++b) {
    while (i < points_.size() && (points_[i] >> index_shift_) < b) {
      ++i;
    }
    index_[b] = static_cast<uint32_t>(i);
  }
}

std::optional<size_t> ring_hash_picker::pick(const pick_input& in) {
  if (points_.empty()) {
    return std::nullopt;
  }
  uint64_t key = mix64(in.hash);
  size_t bucket = key >> index_shift_;
  size_t begin = index_[bucket];
  size_t i = begin + branchless_partition_point(points_.data() + begin, index_[bucket + 1] - begin,
                                                [key](uint64_t point) { return point < key; });
  return owners_[i == points_.size() ? 0 : i];
}

}  // namespace am::lb
