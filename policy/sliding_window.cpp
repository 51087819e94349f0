#include "policy/sliding_window.h"

#include <algorithm>

namespace am::policy {

sliding_window::sliding_window(int64_t window_ms, unsigned buckets)
    : bucket_ms_(std::max<int64_t>(1, window_ms / std::max(1u, buckets))),
      buckets_(std::max(1u, buckets)) {}

sliding_window::bucket& sliding_window::current(time_ms now) {
  auto index = now / bucket_ms_;
  auto& b = buckets_[static_cast<size_t>(index) % buckets_.size()];
  if (b.index != index) {
    b = bucket{index, 0, 0};
  }
  return b;
}

void sliding_window::add(time_ms now, uint64_t total, uint64_t marked) {
  auto& b = current(now);
  b.total += total;
  b.marked += marked;
}

template <class F>
uint64_t sliding_window::sum(time_ms now, F field) {
  auto newest = now / bucket_ms_;
  auto oldest = newest - static_cast<int64_t>(buckets_.size()) + 1;
  uint64_t n = 0;
  for (const auto& b : buckets_) {
    if (b.index >= oldest && b.index <= newest) {
      n += field(b);
    }
  }
  return n;
}

uint64_t sliding_window::total(time_ms now) {
  return sum(now, [](const bucket& b) { return b.total; });
}

uint64_t sliding_window::marked(time_ms now) {
  return sum(now, [](const bucket& b) { return b.marked; });
}

void sliding_window::clear() {
  std::fill(buckets_.begin(), buckets_.end(), bucket{});
}

}  // namespace am::policy
