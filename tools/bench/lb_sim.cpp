// lb_sim: a discrete-event simulation of many sidecars balancing over one service's endpoints,
// driving the real pickers (lb/) and the real global-lb weight code (lb/global_weights), with
// no sockets. It answers the mission's claim: thousands of sidecars each balancing on their
// own view balance badly; a global view balances well.
//
// Model: `sidecars` clients, each sending Poisson traffic (1 request/s on average) through its
// own picker; `endpoints` single-server FIFO queues with exponential service times, a third
// of them twice as slow; the mean utilisation is set by scaling the service times. Halfway
// through, one fast endpoint degrades (4x slower). Global-lb merges every completion of the
// last second into per-endpoint load, computes weights, and every sidecar's weighted random
// picker takes them (a one-second-old view, as a real report cycle gives).
//
// Output: one table row per (utilisation, algorithm): max/mean endpoint utilisation, p50 and
// p99 latency, and how long after the degradation its share of traffic took to fall to 1.5x
// its new fair share; with --series FILE, the degraded endpoint's share per second.
//
//   build/tools/bench/lb_sim [--sidecars 1000] [--endpoints 30] [--seconds 120] [--seed 1]
//                            [--proportional] [--series FILE]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <queue>
#include <random>
#include <string>
#include <vector>

#include "lb/global_weights.h"
#include "lb/picker.h"

namespace {

namespace lb = am::lb;

struct options {
  int sidecars = 1000;
  int endpoints = 30;
  double seconds = 120;
  double warmup = 10;
  uint64_t seed = 1;
  bool proportional = false;  // global-lb splits in proportion to capacity (not least latency)
  std::string series;
};

enum class algo { round_robin, random, least_request, global };

const char* name_of(algo a) {
  switch (a) {
    case algo::round_robin:
      return "round robin";
    case algo::random:
      return "random";
    case algo::least_request:
      return "local least-request";
    case algo::global:
      return "global-lb";
  }
  return "?";
}

struct endpoint {
  double service_mean = 0;  // seconds
  double busy_until = 0;
  double busy_time = 0;  // after the warm-up
};

struct sidecar : lb::load_view {
  lb::picker_ptr picker;
  std::vector<uint32_t> in_flight;
  uint32_t active(size_t m) const override { return in_flight[m]; }
};

struct event {
  double at;
  int kind;  // 0: a sidecar sends, 1: a request completes, 2: global-lb's tick
  int sidecar;
  int endpoint;
  double sent;
  bool operator>(const event& o) const { return at > o.at; }
};

struct result {
  double max_over_mean = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  double drain_s = -1;        // -1: never within the run
  std::vector<double> share;  // the degraded endpoint's share of traffic, per second
};

result simulate(const options& o, algo a, double utilisation) {
  std::mt19937_64 rng{o.seed};
  std::exponential_distribution<double> unit_exp{1.0};
  auto n = static_cast<size_t>(o.endpoints);
  std::vector<endpoint> eps(n);
  // Capacities: fast endpoints mu, slow ones mu/2; sum(mu) = offered load / utilisation.
  size_t slow = n / 3;
  double offered = o.sidecars * 1.0;
  double mu =
      offered / utilisation / (static_cast<double>(n - slow) + static_cast<double>(slow) / 2);
  for (size_t i = 0; i < n; ++i) {
    eps[i].service_mean = (i < n - slow ? 1.0 : 2.0) / mu;
  }
  const size_t degraded = 0;
  const double degrade_at = o.seconds / 2;

  auto kind = a == algo::round_robin     ? lb::algorithm::round_robin
              : a == algo::least_request ? lb::algorithm::least_request
                                         : lb::algorithm::random;
  std::vector<lb::member> members(n);
  for (size_t i = 0; i < n; ++i) {
    members[i] = lb::member{i * 0x9e3779b97f4a7c15ULL, 1, true};
  }
  std::vector<sidecar> cars(static_cast<size_t>(o.sidecars));
  std::priority_queue<event, std::vector<event>, std::greater<>> queue;
  for (size_t s = 0; s < cars.size(); ++s) {
    cars[s].picker = lb::make_picker(kind);
    cars[s].picker->update(members);
    cars[s].in_flight.assign(n, 0);
    for (size_t k = 0; k < s % n; ++k) {
      cars[s].picker->pick({rng(), 0, nullptr});  // sidecars start at different places
    }
    queue.push({unit_exp(rng), 0, static_cast<int>(s), 0, 0});
  }
  lb::global_weight_settings gs;
  if (o.proportional) {
    gs.split = lb::global_weight_settings::rule::proportional;
  }
  lb::global_weights global{gs};
  std::map<std::string, lb::endpoint_load> window;
  std::vector<std::string> keys(n);
  for (size_t i = 0; i < n; ++i) {
    keys[i] = "ep" + std::to_string(i);
    window[keys[i]] = {};
  }
  if (a == algo::global) {
    queue.push({1.0, 2, 0, 0, 0});
  }
  std::vector<double> latencies;
  std::vector<uint64_t> sent_total(static_cast<size_t>(o.seconds) + 1, 0);
  std::vector<uint64_t> sent_degraded(static_cast<size_t>(o.seconds) + 1, 0);
  while (!queue.empty()) {
    auto e = queue.top();
    queue.pop();
    if (e.at > o.seconds) {
      break;
    }
    if (e.kind == 0) {
      auto& car = cars[static_cast<size_t>(e.sidecar)];
      auto pick = car.picker->pick({rng(), 0, &car});
      auto i = *pick;
      ++car.in_flight[i];
      auto& ep = eps[i];
      auto factor = (i == degraded && e.at >= degrade_at) ? 4.0 : 1.0;
      auto service = unit_exp(rng) * ep.service_mean * factor;
      auto start = std::max(e.at, ep.busy_until);
      ep.busy_until = start + service;
      if (start >= o.warmup) {
        ep.busy_time += service;
      }
      auto second = static_cast<size_t>(e.at);
      ++sent_total[second];
      sent_degraded[second] += i == degraded ? 1 : 0;
      queue.push({ep.busy_until, 1, e.sidecar, static_cast<int>(i), e.at});
      queue.push({e.at + unit_exp(rng), 0, e.sidecar, 0, 0});
    } else if (e.kind == 1) {
      --cars[static_cast<size_t>(e.sidecar)].in_flight[static_cast<size_t>(e.endpoint)];
      auto latency = e.at - e.sent;
      if (e.sent >= o.warmup) {
        latencies.push_back(latency);
      }
      auto& w = window[keys[static_cast<size_t>(e.endpoint)]];
      ++w.requests;
      w.latency_sum_s += latency;
    } else {
      const auto& weights = global.update(window);
      for (size_t i = 0; i < n; ++i) {
        members[i].weight = weights.at(keys[i]);
      }
      for (auto& car : cars) {
        car.picker->update(members);
      }
      for (auto& [k, w] : window) {
        w = {};
      }
      queue.push({e.at + 1.0, 2, 0, 0, 0});
    }
  }
  result r;
  double busy_sum = 0, busy_max = 0;
  for (const auto& ep : eps) {
    busy_sum += ep.busy_time;
    busy_max = std::max(busy_max, ep.busy_time);
  }
  r.max_over_mean = busy_max / (busy_sum / static_cast<double>(n));
  std::sort(latencies.begin(), latencies.end());
  if (!latencies.empty()) {
    r.p50_ms = latencies[latencies.size() / 2] * 1000;
    r.p99_ms = latencies[latencies.size() * 99 / 100] * 1000;
  }
  // The degraded endpoint's fair share: its new capacity over the total.
  double total_mu = 0;
  for (size_t i = 0; i < n; ++i) {
    total_mu += 1.0 / (eps[i].service_mean * (i == degraded ? 4.0 : 1.0));
  }
  double fair = 1.0 / (eps[degraded].service_mean * 4.0) / total_mu;
  for (size_t s = 0; s < static_cast<size_t>(o.seconds); ++s) {
    auto share = sent_total[s] ? static_cast<double>(sent_degraded[s]) / sent_total[s] : 0.0;
    r.share.push_back(share);
    if (r.drain_s < 0 && s >= static_cast<size_t>(degrade_at) && share <= 1.5 * fair) {
      r.drain_s = static_cast<double>(s) + 1 - degrade_at;
    }
  }
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "lb_sim: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--sidecars") {
      o.sidecars = std::stoi(next());
    } else if (arg == "--endpoints") {
      o.endpoints = std::stoi(next());
    } else if (arg == "--seconds") {
      o.seconds = std::stod(next());
    } else if (arg == "--seed") {
      o.seed = std::stoull(next());
    } else if (arg == "--proportional") {
      o.proportional = true;
    } else if (arg == "--series") {
      o.series = next();
    } else {
      std::fprintf(stderr,
                   "usage: lb_sim [--sidecars N] [--endpoints N] [--seconds S] [--seed N] "
                   "[--proportional] [--series FILE]\n");
      return arg == "--help" ? 0 : 2;
    }
  }
  std::printf(
      "%d sidecars at ~1 request/s each, %d endpoints (a third twice as slow), %.0f s; "
      "endpoint 0 becomes 4x slower at %.0f s\n\n",
      o.sidecars, o.endpoints, o.seconds, o.seconds / 2);
  std::printf(
      "| utilisation | algorithm | max/mean utilisation | p50 ms | p99 ms | drained after |\n");
  std::printf("|---|---|---|---|---|---|\n");
  std::FILE* series = o.series.empty() ? nullptr : std::fopen(o.series.c_str(), "w");
  for (double u : {0.5, 0.7, 0.85}) {
    std::vector<result> rs;
    for (auto a : {algo::round_robin, algo::random, algo::least_request, algo::global}) {
      auto r = simulate(o, a, u);
      char drained[32];
      if (r.drain_s < 0) {
        std::snprintf(drained, sizeof drained, "never");
      } else {
        std::snprintf(drained, sizeof drained, "%.0f s", r.drain_s);
      }
      std::printf("| %.0f%% | %s | %.2f | %.1f | %.1f | %s |\n", u * 100, name_of(a),
                  r.max_over_mean, r.p50_ms, r.p99_ms, drained);
      std::fflush(stdout);
      rs.push_back(std::move(r));
    }
    if (series != nullptr && u == 0.7) {
      std::fprintf(series, "# second round_robin random least_request global\n");
      for (size_t s = 0; s < rs[0].share.size(); ++s) {
        std::fprintf(series, "%zu %.4f %.4f %.4f %.4f\n", s, rs[0].share[s], rs[1].share[s],
                     rs[2].share[s], rs[3].share[s]);
      }
    }
  }
  if (series != nullptr) {
    std::fclose(series);
  }
  return 0;
}
