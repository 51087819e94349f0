// A hashed timing wheel with intrusive timers: scheduling and cancelling are O(1) and
// allocation-free, and a timer cancels itself when its owner is destroyed. Resolution is one
// tick (10 ms), which is all that request, header and idle timeouts need.
#pragma once

#include <cstdint>

namespace am::net {

class timer {
 public:
  using callback = void (*)(void* owner);

  timer() = default;  // a list head inside the wheel
  timer(callback cb, void* owner) : cb_(cb), owner_(owner) {}
  ~timer() { unlink(); }
  timer(const timer&) = delete;
  timer& operator=(const timer&) = delete;

  bool armed() const { return next_ != nullptr; }

 private:
  friend class timer_wheel;
  friend class precise_timers;

  void unlink() {
    if (next_ != nullptr) {
      prev_->next_ = next_;
      next_->prev_ = prev_;
      next_ = prev_ = nullptr;
    }
  }
  void link_after(timer& head) {
    prev_ = &head;
    next_ = head.next_;
    head.next_->prev_ = this;
    head.next_ = this;
  }

  callback cb_ = nullptr;
  void* owner_ = nullptr;
  timer* prev_ = nullptr;
  timer* next_ = nullptr;
  int64_t deadline_ms_ = 0;  // in precise_timers: microseconds
};

class timer_wheel {
 public:
  static constexpr int64_t tick_ms = 10;
  static constexpr int64_t slots = 1024;

  timer_wheel();
  ~timer_wheel();
  timer_wheel(const timer_wheel&) = delete;
  timer_wheel& operator=(const timer_wheel&) = delete;

  void schedule(timer& t, int64_t deadline_ms);
  void cancel(timer& t) { t.unlink(); }

  // Fires every timer whose deadline is at or before `now_ms`.
  void advance(int64_t now_ms);

  // Milliseconds from `now_ms` until the first slot to visit that holds a timer (one of a
  // later revolution, maybe: then the loop just looks again), or -1 when none is armed. It
  // scans the slots: for a loop with nothing else to do, so that it sleeps until then.
  int64_t idle_wait_ms(int64_t now_ms) const;

 private:
  timer heads_[slots];
  int64_t last_tick_ = -1;
};

// Timers due to the millisecond, for the few waits a client feels (protocol detection: a
// server-first protocol's banner waits for it). A list sorted by deadline, inserted from the
// end: deadlines come in order when every timer waits the same delay, so that is O(1). The
// loop sleeps no longer than until the first one.
class precise_timers {
 public:
  precise_timers();
  ~precise_timers();
  precise_timers(const precise_timers&) = delete;
  precise_timers& operator=(const precise_timers&) = delete;

  void schedule(timer& t, int64_t deadline_us);
  void cancel(timer& t) { t.unlink(); }
  // The first deadline, or -1 when none is armed.
  int64_t next_deadline_us() const {
    return head_.next_ == &head_ ? -1 : head_.next_->deadline_ms_;
  }
  // Fires every timer whose deadline is at or before `now_us`.
  void advance(int64_t now_us);

 private:
  timer head_;
};

}  // namespace am::net
