// The golden signals' memory and cost at mesh scale (README "Golden signals"): SERVICES
// services each called by CALLERS others, every pair reported every second for SECONDS
// simulated seconds, as the signals actor receives them; then the resident memory the
// windows added, per pair, and the time a report and a query take. Plain lb/ logic, no actor:
// the actor adds only its mailbox.
//
//   build/tools/bench/signals_memory [SERVICES=1000] [CALLERS=10] [SECONDS=660]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "lb/signal_windows.h"
#include "net/traffic_stats.h"

namespace {

long resident_kib() {
  std::ifstream status{"/proc/self/status"};
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      return std::strtol(line.c_str() + 6, nullptr, 10);
    }
  }
  return -1;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  int services = argc > 1 ? std::atoi(argv[1]) : 1000;
  int callers = argc > 2 ? std::atoi(argv[2]) : 10;
  int seconds = argc > 3 ? std::atoi(argv[3]) : 660;
  std::vector<std::string> names;
  for (int s = 0; s < services; ++s) {
    names.push_back("service-" + std::to_string(s));
  }
  // One report per caller service per second (a sidecar of it), naming the services it
  // called: the callers of service s are s+1 .. s+CALLERS.
  std::vector<am::config::signals_report> reports(static_cast<size_t>(services));
  for (int c = 0; c < services; ++c) {
    auto& r = reports[static_cast<size_t>(c)];
    r.sidecar = names[static_cast<size_t>(c)] + "-1";
    for (int k = 1; k <= callers; ++k) {
      auto callee = names[static_cast<size_t>((c + services - k) % services)];
      am::config::pair_signals p{names[static_cast<size_t>(c)], callee, {97, 0, 1, 2}, {}};
      p.latency.assign(am::net::latency_bounds_us.size() + 1, 0);
      p.latency[4] = 60;
      p.latency[6] = 40;
      r.pairs.push_back(std::move(p));
    }
  }
  long before = resident_kib();
  am::lb::signal_windows windows{
      {am::net::latency_bounds_us.begin(), am::net::latency_bounds_us.end()}};
  auto start = std::chrono::steady_clock::now();
  int64_t now = 1'000'000;
  for (int t = 0; t < seconds; ++t, now += 1000) {
    for (const auto& r : reports) {
      windows.add(r, now);
    }
    if (t % 60 == 0) {
      windows.expire(now);
    }
  }
  double add_s = seconds_since(start);
  long after = resident_kib();
  start = std::chrono::steady_clock::now();
  am::lb::signal_query all{am::lb::signal_window::one_minute, "", "", false};
  auto rows = windows.query(all, now);
  double query_s = seconds_since(start);
  auto pairs = windows.pairs();
  std::printf(
      "services %d, callers each %d, pairs %zu, simulated %d s\n"
      "resident memory added: %.1f MiB (%.0f bytes per pair)\n"
      "a report of %d pairs: %.1f us to merge; a query over all pairs (%zu rows): %.1f ms\n",
      services, callers, pairs, seconds, (after - before) / 1024.0,
      (after - before) * 1024.0 / static_cast<double>(pairs), callers,
      add_s * 1e6 / (static_cast<double>(seconds) * services), rows.size(), query_s * 1e3);
  return rows.size() == static_cast<size_t>(services) ? 0 : 1;
}
