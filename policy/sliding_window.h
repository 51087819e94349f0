// Counts of two kinds of events (total and marked: requests and retries, requests and
// failures) over a sliding window, kept in fixed buckets so that memory and work per event
// are constant. Resolution is one bucket; events older than the window are forgotten.
#pragma once

#include <cstdint>
#include <vector>

#include "policy/time.h"

namespace am::policy {

class sliding_window {
 public:
  // `window_ms` is split into `buckets` equal parts (at least 1 ms each).
  sliding_window(int64_t window_ms, unsigned buckets);

  void add(time_ms now, uint64_t total, uint64_t marked);

  // Sums over the window ending at `now`.
  uint64_t total(time_ms now);
  uint64_t marked(time_ms now);

  void clear();

 private:
  struct bucket {
    int64_t index = -1;  // which bucket-sized slice of time it holds
    uint64_t total = 0;
    uint64_t marked = 0;
  };

  bucket& current(time_ms now);
  template <class F>
  uint64_t sum(time_ms now, F field);

  int64_t bucket_ms_;
  std::vector<bucket> buckets_;
};

}  // namespace am::policy
