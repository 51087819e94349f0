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

// RAII: `metered_handler m{stats, self->mailbox().size()};` as a handler's first line.
class metered_handler {
 public:
  metered_handler(actor_stats* s, size_t mailbox_size)
      : stats_(s), start_(std::chrono::steady_clock::now()) {
    stats_->messages.fetch_add(1, std::memory_order_relaxed);
    stats_->mailbox.store(mailbox_size, std::memory_order_relaxed);
  }
  ~metered_handler() {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                  std::chrono::steady_clock::now() - start_)
                  .count();
    stats_->busy_ns.fetch_add(static_cast<uint64_t>(ns), std::memory_order_relaxed);
  }
  metered_handler(const metered_handler&) = delete;
  metered_handler& operator=(const metered_handler&) = delete;

 private:
  actor_stats* stats_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace am::actors
