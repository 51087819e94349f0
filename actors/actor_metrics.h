// Per-actor metrics (CAF's own profiler is compiled out of Debian's build, CAF_GUIDE.md §6):
// each handler opens a `metered_handler` that counts the message, samples the mailbox and
// times the handler. The registry is read by the admin listener's /metrics.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "actors/tsan_handoff.h"

namespace am::actors {

struct actor_stats {
  explicit actor_stats(std::string n) : name(std::move(n)) {}

  const std::string name;
  std::atomic<uint64_t> messages{0};
  std::atomic<uint64_t> mailbox{0};
  std::atomic<uint64_t> busy_ns{0};
};

class actor_metrics_registry {
 public:
  // The stats object for actors of this name; stable for the registry's lifetime.
  actor_stats* get(const std::string& name);
  void for_each(const std::function<void(const actor_stats&)>& fn) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, std::unique_ptr<actor_stats>> stats_;
};

// RAII: `metered_handler m{self};` as the first line of each of an actor's handlers (message,
// response, down and exit handlers alike).
//
// It also tells ThreadSanitizer what CAF guarantees: an actor runs one handler at a time, but
// the next one may run on another scheduler thread, the actor handed over through
// libcaf_core's atomics, which TSan does not see (Debian's CAF is not instrumented). Without
// the acquire and release on the actor's address, state an actor alone touches would be
// reported as racing with itself. Nothing in any other build.
class metered_handler {
 public:
  template <class Actor>
  explicit metered_handler(Actor* self)
      : metered_handler(self->state.stats, self->mailbox().size(), self) {}

  metered_handler(actor_stats* s, size_t mailbox_size, const void* actor)
      : stats_(s), actor_(actor), start_(std::chrono::steady_clock::now()) {
    handoff_acquire(actor_);
    stats_->messages.fetch_add(1, std::memory_order_relaxed);
    stats_->mailbox.store(mailbox_size, std::memory_order_relaxed);
  }
  ~metered_handler() {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - start_)
                  .count();
    stats_->busy_ns.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
    handoff_release(actor_);
  }
  metered_handler(const metered_handler&) = delete;
  metered_handler& operator=(const metered_handler&) = delete;

 private:
  actor_stats* stats_;
  const void* actor_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace am::actors
