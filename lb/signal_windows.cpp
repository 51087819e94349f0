#include "lb/signal_windows.h"

#include <algorithm>

namespace am::lb {

namespace {

struct tier_shape {
  int64_t granularity_ms;
  size_t slots;
  size_t first;  // its first slot in pair_state::slots
};

// Per window: slots of its granularity, enough to span it.
constexpr std::array<tier_shape, 3> shapes = {{{1000, 10, 0}, {10'000, 6, 10}, {60'000, 10, 16}}};
constexpr size_t slots_per_pair = 26;
constexpr int64_t longest_window_ms = 60'000 * 10;

int64_t window_ms(const tier_shape& t) {
  return t.granularity_ms * static_cast<int64_t>(t.slots);
}

}  // namespace

bool parse_signal_window(const std::string& text, signal_window& out) {
  if (text == "10s") {
    out = signal_window::ten_seconds;
  } else if (text == "1m") {
    out = signal_window::one_minute;
  } else if (text == "10m") {
    out = signal_window::ten_minutes;
  } else {
    return false;
  }
  return true;
}

const char* to_string(signal_window w) {
  switch (w) {
    case signal_window::ten_seconds:
      return "10s";
    case signal_window::one_minute:
      return "1m";
    case signal_window::ten_minutes:
      return "10m";
  }
  return "?";
}

signal_windows::signal_windows(std::vector<uint64_t> latency_bounds_us)
    : bounds_us_(std::move(latency_bounds_us)) {
  if (bounds_us_.size() >= max_latency_buckets) {
    bounds_us_.resize(max_latency_buckets - 1);  // the rest count as +Inf
  }
}

signal_windows::pair_state signal_windows::make_pair_state(int64_t now_ms) const {
  pair_state p;
  // Its first report covers the interval before it arrived.
  p.first_ms = now_ms - report_interval_ms;
  p.slots.resize(slots_per_pair);
  return p;
}

void signal_windows::add(const config::signals_report& report, int64_t now_ms) {
  for (const auto& in : report.pairs) {
    auto key = std::make_pair(in.source, in.destination);
    auto it = pairs_.find(key);
    if (it == pairs_.end()) {
      it = pairs_.emplace(std::move(key), make_pair_state(now_ms)).first;
    }
    auto& p = it->second;
    p.last_ms = now_ms;
    p.sidecars[report.sidecar] = now_ms;
    for (const auto& shape : shapes) {
      auto index = now_ms / shape.granularity_ms;
      auto& s = p.slots[shape.first + static_cast<size_t>(index) % shape.slots];
      if (s.index != index) {
        s = slot{};
        s.index = index;
      }
      for (size_t c = 0; c < s.by_class.size() && c < in.by_class.size(); ++c) {
        s.by_class[c] += static_cast<uint32_t>(in.by_class[c]);
      }
      // Buckets past the bounds kept (if a report has more) go to +Inf.
      auto inf = bounds_us_.size();
      for (size_t b = 0; b < in.latency.size(); ++b) {
        s.latency[std::min(b, inf)] += static_cast<uint32_t>(in.latency[b]);
      }
    }
  }
}

std::vector<signal_row> signal_windows::query(const signal_query& q, int64_t now_ms) const {
  auto w = static_cast<size_t>(q.window);
  const auto& shape = shapes[w];
  auto span = window_ms(shape);
  auto current = now_ms / shape.granularity_ms;
  // The slots in the window cover from the oldest one's start to now.
  auto slots_cover = (static_cast<int64_t>(shape.slots) - 1) * shape.granularity_ms +
                     now_ms % shape.granularity_ms;
  std::map<std::pair<std::string, std::string>, signal_row> rows;
  std::map<std::pair<std::string, std::string>, std::vector<uint64_t>> latencies;
  for (const auto& [key, p] : pairs_) {
    const auto& [source, destination] = key;
    if ((!q.from.empty() && q.from != source) || (!q.to.empty() && q.to != destination) ||
        now_ms - p.last_ms >= span) {
      continue;
    }
    signal_row r;
    std::vector<uint64_t> latency(bounds_us_.size() + 1, 0);
    for (size_t i = shape.first; i < shape.first + shape.slots; ++i) {
      const auto& s = p.slots[i];
      if (s.index <= current - static_cast<int64_t>(shape.slots) || s.index > current) {
        continue;
      }
      for (size_t c = 0; c < s.by_class.size(); ++c) {
        r.by_class[c] += s.by_class[c];
      }
      for (size_t b = 0; b < latency.size(); ++b) {
        latency[b] += s.latency[b];
      }
    }
    for (auto n : r.by_class) {
      r.requests += n;
    }
    if (r.requests == 0) {
      continue;
    }
    r.failures = r.by_class[config::failure_class];
    auto covered = std::max(std::min(slots_cover, now_ms - p.first_ms), report_interval_ms);
    r.requests_per_second = static_cast<double>(r.requests) * 1000.0 / static_cast<double>(covered);
    for (const auto& [sidecar, last] : p.sidecars) {
      r.sidecars += now_ms - last < span ? 1 : 0;
    }
    auto row_key = q.by_pair ? key : std::make_pair(std::string{}, destination);
    auto& out = rows[row_key];
    auto& out_latency = latencies[row_key];
    if (out.destination.empty()) {
      out.source = row_key.first;
      out.destination = destination;
      out_latency.assign(latency.size(), 0);
    }
    out.requests += r.requests;
    out.failures += r.failures;
    for (size_t c = 0; c < r.by_class.size(); ++c) {
      out.by_class[c] += r.by_class[c];
    }
    out.requests_per_second += r.requests_per_second;
    out.sidecars += r.sidecars;
    for (size_t b = 0; b < latency.size(); ++b) {
      out_latency[b] += latency[b];
    }
  }
  std::vector<signal_row> out;
  for (auto& [key, r] : rows) {
    const auto& latency = latencies[key];
    r.p50_us = percentile(latency, bounds_us_, 0.50);
    r.p95_us = percentile(latency, bounds_us_, 0.95);
    r.p99_us = percentile(latency, bounds_us_, 0.99);
    out.push_back(std::move(r));
  }
  return out;
}

void signal_windows::expire(int64_t now_ms) {
  for (auto it = pairs_.begin(); it != pairs_.end();) {
    auto& sidecars = it->second.sidecars;
    std::erase_if(sidecars, [&](const auto& s) { return now_ms - s.second >= longest_window_ms; });
    it = sidecars.empty() ? pairs_.erase(it) : std::next(it);
  }
}

uint64_t signal_windows::percentile(const std::vector<uint64_t>& counts,
                                    const std::vector<uint64_t>& bounds_us, double q) {
  uint64_t total = 0;
  for (auto n : counts) {
    total += n;
  }
  if (total == 0) {
    return 0;
  }
  auto rank = q * static_cast<double>(total);
  uint64_t below = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0 || static_cast<double>(below + counts[i]) < rank) {
      below += counts[i];
      continue;
    }
    if (i >= bounds_us.size()) {
      return bounds_us.empty() ? 0 : bounds_us.back();  // +Inf: its lower bound
    }
    double lower = i == 0 ? 0.0 : static_cast<double>(bounds_us[i - 1]);
    double upper = static_cast<double>(bounds_us[i]);
    double within = (rank - static_cast<double>(below)) / static_cast<double>(counts[i]);
    return static_cast<uint64_t>(lower + (upper - lower) * within);
  }
  return bounds_us.empty() ? 0 : bounds_us.back();
}

}  // namespace am::lb
