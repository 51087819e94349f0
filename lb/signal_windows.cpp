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
  // Per row (a pair, or a destination summed over its sources): its figures and latencies.
  struct merged {
    signal_row row;
    std::vector<uint64_t> latency;
  };
  std::map<std::pair<std::string, std::string>, merged> rows;
  for (const auto& [key, p] : pairs_) {
    const auto& [source, destination] = key;
    int64_t last = 0;  // the pair's latest report: its sidecars' latest
    for (const auto& entry : p.sidecars) {
      last = std::max(last, entry.second);
    }
    if ((!q.from.empty() && q.from != source) || (!q.to.empty() && q.to != destination) ||
        now_ms - last >= span) {
      continue;
    }
    auto in_window = [&](const slot& s) {
      return s.index > current - static_cast<int64_t>(shape.slots) && s.index <= current;
    };
    const auto* first = p.slots.data() + shape.first;
    const auto* end = first + shape.slots;
    uint64_t requests = 0;
    for (const auto* s = first; s != end; ++s) {
      for (auto n : s->by_class) {
        requests += in_window(*s) ? n : 0;
      }
    }
    if (requests == 0) {
      continue;
    }
    auto& out = rows[q.by_pair ? key : std::make_pair(std::string{}, destination)];
    if (out.latency.empty()) {
      out.row.source = q.by_pair ? source : std::string{};
      out.row.destination = destination;
      out.latency.assign(bounds_us_.size() + 1, 0);
    }
    for (const auto* s = first; s != end; ++s) {
      if (!in_window(*s)) {
        continue;
      }
      for (size_t c = 0; c < s->by_class.size(); ++c) {
        out.row.by_class[c] += s->by_class[c];
      }
      for (size_t b = 0; b < out.latency.size(); ++b) {
        out.latency[b] += s->latency[b];
      }
    }
    out.row.requests += requests;
    auto covered = std::max(std::min(slots_cover, now_ms - p.first_ms), report_interval_ms);
    out.row.requests_per_second +=
        static_cast<double>(requests) * 1000.0 / static_cast<double>(covered);
    for (const auto& entry : p.sidecars) {
      out.row.sidecars += now_ms - entry.second < span ? 1 : 0;
    }
  }
  std::vector<signal_row> out;
  for (auto& [key, m] : rows) {
    m.row.failures = m.row.by_class[config::failure_class];
    m.row.p50_us = percentile(m.latency, bounds_us_, 0.50);
    m.row.p95_us = percentile(m.latency, bounds_us_, 0.95);
    m.row.p99_us = percentile(m.latency, bounds_us_, 0.99);
    out.push_back(std::move(m.row));
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
