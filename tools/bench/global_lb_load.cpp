// global_lb_load: the global-lb actor under the load of a large mesh, in one process (no
// middleman: its serialisation is not counted). COUNT simulated sidecars each report once a
// second one service of ENDPOINTS endpoints (SERVICES services in all), spread evenly over
// the second as real sidecars' clocks are; the global-lb answers each with its weights.
// Prints the global-lb actor's busy time per second (its handlers, timed as /metrics times
// them: wall time, so an upper bound on a busy machine) and, per weights version, how long
// after the first sidecar got it the last one did.
//   build/tools/bench/global_lb_load [COUNT 10000] [ENDPOINTS 20] [SERVICES 100] [SECONDS 10]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/send.hpp>

#include "actors/global_lb.h"

namespace {

using namespace am;
using clock_type = std::chrono::steady_clock;

constexpr size_t max_versions = 64;
std::atomic<int64_t> first_ns[max_versions];
std::atomic<int64_t> last_ns[max_versions];
std::atomic<uint64_t> received[max_versions];

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

caf::behavior simulated_sidecar(caf::event_based_actor* self, actors::global_lb_actor lb,
                                net::load_report report) {
  return {
      [=](actors::poll_atom) mutable {
        std::mt19937_64 rng{report.sidecar.size() * 7919 + static_cast<size_t>(now_ns())};
        for (auto& e : report.services[0].endpoints) {
          e.requests = rng() % 3;
          e.latency_us = e.requests * (1000 + rng() % 4000);
          e.active = static_cast<uint32_t>(rng() % 2);
        }
        self->send(lb, actors::load_atom::value, report);
      },
      [](actors::weights_atom, const net::weight_table& t) {
        auto v = t.version % max_versions;
        auto now = now_ns();
        int64_t seen = 0;
        first_ns[v].compare_exchange_strong(seen, now);
        auto last = last_ns[v].load();
        while (now > last && !last_ns[v].compare_exchange_weak(last, now)) {
        }
        received[v].fetch_add(1);
      },
  };
}

}  // namespace

int main(int argc, char** argv) {
  size_t count = argc > 1 ? std::strtoul(argv[1], nullptr, 10) : 10000;
  size_t endpoints = argc > 2 ? std::strtoul(argv[2], nullptr, 10) : 20;
  size_t services = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 100;
  int seconds = argc > 4 ? std::atoi(argv[4]) : 10;
  caf::actor_system_config cfg;
  actors::add_message_types(cfg);
  caf::actor_system sys{cfg};
  actors::node_context ctx{config::node{}};
  auto lb = actors::spawn_global_lb(sys, ctx);
  std::vector<caf::actor> sidecars;
  for (size_t i = 0; i < count; ++i) {
    net::load_report r;
    r.sidecar = "sc" + std::to_string(i);
    auto& svc = r.services.emplace_back();
    svc.service = "svc" + std::to_string(i % services);
    for (size_t e = 0; e < endpoints; ++e) {
      svc.endpoints.push_back(
          {"10.0." + std::to_string(i % services) + "." + std::to_string(e) + ":8080", 0, 0, 0, 0,
           false});
    }
    sidecars.push_back(sys.spawn(simulated_sidecar, lb, std::move(r)));
  }
  auto* stats = ctx.actor_metrics.get("global_lb");
  uint64_t busy_start = 0;
  constexpr int slices = 20;  // each second's reports in 20 slices of 50 ms
  for (int s = 0; s < seconds; ++s) {
    if (s == 2) {
      busy_start = stats->busy_ns.load();  // after two seconds of warm-up
    }
    for (int k = 0; k < slices; ++k) {
      auto slice_start = clock_type::now();
      for (size_t i = static_cast<size_t>(k); i < count; i += slices) {
        caf::anon_send(sidecars[i], actors::poll_atom::value);
      }
      std::this_thread::sleep_until(slice_start + std::chrono::milliseconds{1000 / slices});
    }
  }
  auto busy = stats->busy_ns.load() - busy_start;
  std::printf("%zu sidecars, %zu endpoints each, %zu services, %d s (2 s warm-up)\n", count,
              endpoints, services, seconds);
  std::printf("global-lb busy: %.1f ms per second (%.1f%% of one core)\n",
              static_cast<double>(busy) / 1e6 / (seconds - 2),
              static_cast<double>(busy) / 1e7 / (seconds - 2));
  std::printf("per weights version: sidecars reached, and first-to-last spread\n");
  for (size_t v = 0; v < max_versions; ++v) {
    if (received[v] > 0) {
      std::printf("  version %2zu: %6llu sidecars, %.1f ms\n", v,
                  static_cast<unsigned long long>(received[v].load()),
                  static_cast<double>(last_ns[v] - first_ns[v]) / 1e6);
    }
  }
  caf::anon_send_exit(lb, caf::exit_reason::user_shutdown);
  for (auto& s : sidecars) {
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  }
  return 0;
}
