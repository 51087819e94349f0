#include <catch2/catch.hpp>

#include <vector>

#include "net/timer_wheel.h"

using namespace am::net;

namespace {

struct counter {
  int fired = 0;
  static void fire(void* self) { ++static_cast<counter*>(self)->fired; }
};

}  // namespace

TEST_CASE("a timer fires once its deadline has passed, not before") {
  timer_wheel wheel;
  counter c;
  timer t{&counter::fire, &c};
  wheel.advance(1000);
  wheel.schedule(t, 1100);
  wheel.advance(1090);
  CHECK(c.fired == 0);
  wheel.advance(1100);
  CHECK(c.fired == 1);
  CHECK_FALSE(t.armed());
  wheel.advance(5000);
  CHECK(c.fired == 1);
}

TEST_CASE("a deadline inside a tick fires within that tick's resolution, not a revolution later") {
  timer_wheel wheel;
  counter c;
  timer t{&counter::fire, &c};
  wheel.advance(1000);
  wheel.schedule(t, 1105);
  wheel.advance(1100);  // the deadline's own tick, before the deadline
  CHECK(c.fired == 0);
  wheel.advance(1104);
  CHECK(c.fired == 0);
  wheel.advance(1110);
  CHECK(c.fired == 1);
}

TEST_CASE("a cancelled or destroyed timer never fires") {
  timer_wheel wheel;
  counter c;
  wheel.advance(0);
  timer t{&counter::fire, &c};
  wheel.schedule(t, 50);
  wheel.cancel(t);
  {
    timer gone{&counter::fire, &c};
    wheel.schedule(gone, 50);
  }
  wheel.advance(100);
  CHECK(c.fired == 0);
}

TEST_CASE("deadlines beyond one revolution wait for their own turn") {
  timer_wheel wheel;
  counter c;
  timer t{&counter::fire, &c};
  wheel.advance(0);
  auto far = timer_wheel::tick_ms * timer_wheel::slots * 2 + 30;
  wheel.schedule(t, far);
  for (int64_t now = 0; now < far; now += 100) {
    wheel.advance(now);
  }
  CHECK(c.fired == 0);
  wheel.advance(far);
  CHECK(c.fired == 1);
}

TEST_CASE("a callback may re-arm its own timer") {
  timer_wheel wheel;
  struct rearm {
    timer_wheel* w;
    timer* t;
    int fired = 0;
    static void fire(void* p) {
      auto* self = static_cast<rearm*>(p);
      if (++self->fired < 3) {
        self->w->schedule(*self->t, 0);  // "now": runs on the next advance
      }
    }
  } r;
  timer t{&rearm::fire, &r};
  r.w = &wheel;
  r.t = &t;
  wheel.advance(0);
  wheel.schedule(t, 10);
  wheel.advance(10);
  wheel.advance(20);
  wheel.advance(30);
  CHECK(r.fired == 3);
}

TEST_CASE("an idle loop may sleep until the first armed slot, and forever with none") {
  timer_wheel wheel;
  counter c;
  wheel.advance(1000);
  CHECK(wheel.idle_wait_ms(1000) == -1);
  timer soon{&counter::fire, &c}, later{&counter::fire, &c};
  wheel.schedule(later, 8000);
  CHECK(wheel.idle_wait_ms(1003) == 6997);
  wheel.schedule(soon, 1500);
  CHECK(wheel.idle_wait_ms(1003) == 497);
  wheel.advance(1000 + 497 + 3);  // waking then fires it
  CHECK(c.fired == 1);
  CHECK(wheel.idle_wait_ms(1500) == 6500);
  // A timer of a later revolution shares a slot with an earlier one: the loop wakes at the
  // slot, finds it not due, and looks again.
  timer far{&counter::fire, &c};
  wheel.cancel(later);
  wheel.schedule(far, 1500 + timer_wheel::slots * timer_wheel::tick_ms + 10);
  auto wait = wheel.idle_wait_ms(1500);
  CHECK(wait == 10);
  wheel.advance(1500 + wait);
  CHECK(c.fired == 1);
  CHECK(wheel.idle_wait_ms(1510) == timer_wheel::slots * timer_wheel::tick_ms);
  wheel.cancel(far);
  CHECK(wheel.idle_wait_ms(1510) == -1);
}

TEST_CASE("precise timers fire in deadline order, to the microsecond, and can be cancelled") {
  precise_timers timers;
  std::vector<int> order;
  struct entry {
    std::vector<int>* order;
    int id;
    static void fire(void* self) {
      auto* e = static_cast<entry*>(self);
      e->order->push_back(e->id);
    }
  };
  entry a{&order, 1}, b{&order, 2}, c{&order, 3};
  timer ta{&entry::fire, &a}, tb{&entry::fire, &b}, tc{&entry::fire, &c};
  CHECK(timers.next_deadline_us() == -1);
  timers.schedule(ta, 300'000);
  timers.schedule(tb, 300'500);
  timers.schedule(tc, 200'000);  // out of order: sorted in
  CHECK(timers.next_deadline_us() == 200'000);
  timers.advance(199'999);
  CHECK(order.empty());
  timers.advance(300'000);
  CHECK(order == std::vector<int>{3, 1});
  CHECK(timers.next_deadline_us() == 300'500);
  timers.cancel(tb);
  CHECK(timers.next_deadline_us() == -1);
  timers.advance(1'000'000);
  CHECK(order == std::vector<int>{3, 1});
}
