#include "net/timer_wheel.h"

#include <algorithm>

namespace am::net {

timer_wheel::timer_wheel() {
  for (auto& h : heads_) {
    h.prev_ = h.next_ = &h;
  }
}

timer_wheel::~timer_wheel() {
  // Timers that outlive the wheel must not point into it.
  for (auto& h : heads_) {
    while (h.next_ != &h) {
      h.next_->unlink();
    }
    h.prev_ = h.next_ = nullptr;
  }
}

void timer_wheel::schedule(timer& t, int64_t deadline_ms) {
  t.unlink();
  t.deadline_ms_ = deadline_ms;
  if (last_tick_ < 0) {
    last_tick_ = deadline_ms / tick_ms - 1;
  }
  // The first tick that starts at or after the deadline: visiting it, the timer is due. (The
  // tick the deadline falls in may be visited before the deadline, and the timer would then
  // wait a whole revolution.) A deadline in the past lands in the next slot to be visited.
  auto tick = (deadline_ms + tick_ms - 1) / tick_ms;
  if (tick <= last_tick_) {
    tick = last_tick_ + 1;
  }
  t.link_after(heads_[tick % slots]);
}

void timer_wheel::advance(int64_t now_ms) {
  auto now_tick = now_ms / tick_ms;
  if (last_tick_ < 0) {
    last_tick_ = now_tick;
    return;
  }
  // Visit at most one revolution: later slots hold only timers of later revolutions.
  auto first = last_tick_ + 1;
  if (now_tick - first >= slots) {
    first = now_tick - slots + 1;
  }
  for (auto tick = first; tick <= now_tick; ++tick) {
    // Timers scheduled by the callbacks below land in a later slot, never in this one.
    last_tick_ = tick;
    auto& head = heads_[tick % slots];
    // Move the due timers to a private ring first: a callback may cancel or schedule timers,
    // including ones in this slot.
    timer due{nullptr, nullptr};
    due.prev_ = due.next_ = &due;
    for (auto* t = head.next_; t != &head;) {
      auto* next = t->next_;
      if (t->deadline_ms_ <= now_ms) {
        t->unlink();
        t->link_after(due);
      }
      t = next;
    }
    while (due.next_ != &due) {
      auto* t = due.next_;
      t->unlink();
      t->cb_(t->owner_);
    }
    due.prev_ = due.next_ = nullptr;
  }
  last_tick_ = now_tick;
}

int64_t timer_wheel::idle_wait_ms(int64_t now_ms) const {
  auto first = last_tick_ < 0 ? now_ms / tick_ms : last_tick_ + 1;
  for (auto tick = first; tick < first + slots; ++tick) {
    const auto& head = heads_[tick % slots];
    if (head.next_ != &head) {
      return std::max<int64_t>(0, tick * tick_ms - now_ms);
    }
  }
  return -1;
}

precise_timers::precise_timers() {
  head_.prev_ = head_.next_ = &head_;
}

precise_timers::~precise_timers() {
  while (head_.next_ != &head_) {
    head_.next_->unlink();
  }
  head_.prev_ = head_.next_ = nullptr;
}

void precise_timers::schedule(timer& t, int64_t deadline_us) {
  t.unlink();
  t.deadline_ms_ = deadline_us;
  auto* after = head_.prev_;
  while (after != &head_ && after->deadline_ms_ > deadline_us) {
    after = after->prev_;
  }
  t.link_after(*after);
}

void precise_timers::advance(int64_t now_us) {
  // One at a time from the front: a callback may cancel or schedule others.
  while (head_.next_ != &head_ && head_.next_->deadline_ms_ <= now_us) {
    auto* t = head_.next_;
    t->unlink();
    t->cb_(t->owner_);
  }
}

}  // namespace am::net
