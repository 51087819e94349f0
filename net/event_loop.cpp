#include "net/event_loop.h"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <stdexcept>
#include <string>
#include <system_error>

namespace am::net {

namespace {

// An idle loop with no timer armed still wakes once a second (nothing needs it: a safety net).
constexpr int64_t max_idle_wait_ms = 1000;

// The wake-up eventfd's handler: drains the counter; posted work runs after the batch.
class wake_handler final : public io_handler {
 public:
  explicit wake_handler(int fd) : fd_(fd) {}
  void on_io(uint32_t) override {
    uint64_t n;
    while (::read(fd_, &n, sizeof n) > 0) {
    }
  }

 private:
  int fd_;
};

[[noreturn]] void throw_errno(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

event_loop::event_loop() {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) {
    throw_errno("epoll_create1");
  }
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    throw_errno("eventfd");
  }
  wake_ = std::make_unique<wake_handler>(wake_fd_);
  add(wake_fd_, EPOLLIN, wake_.get());
  read_clock();
}

event_loop::~event_loop() {
  retired_.clear();
  // Handlers may retire one another as they are destroyed; take them one at a time.
  while (!owned_.empty()) {
    auto* h = *owned_.begin();
    owned_.erase(owned_.begin());
    delete h;
  }
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void event_loop::add(int fd, uint32_t events, io_handler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw_errno("epoll_ctl(ADD)");
  }
}

void event_loop::modify(int fd, uint32_t events, io_handler* h) {
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = h;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    throw_errno("epoll_ctl(MOD)");
  }
}

void event_loop::remove(int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
}

void event_loop::retire(io_handler* h) {
  if (owned_.erase(h) > 0) {
    retired_.emplace_back(h);
  }
}

void event_loop::post(std::function<void()> fn) {
  {
    std::lock_guard<std::mutex> guard{posted_mutex_};
    posted_.push_back(std::move(fn));
  }
  uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

void event_loop::stop() {
  post([this] { stopping_ = true; });
}

void event_loop::read_clock() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  now_us_ = static_cast<int64_t>(ts.tv_sec) * 1'000'000 + ts.tv_nsec / 1000;
  now_ms_ = now_us_ / 1000;
}

void event_loop::run_posted() {
  std::vector<std::function<void()>> work;
  {
    std::lock_guard<std::mutex> guard{posted_mutex_};
    work.swap(posted_);
  }
  for (auto& fn : work) {
    fn();
  }
}

void event_loop::run_flushes() {
  // Retired handlers are still alive here (they are freed after this), and a flush, or a
  // write's outcome, may queue further flushes (an error closes a peer): go on until both the
  // list and the writes stay empty.
  while (!pending_flush_.empty() || !writes_.empty()) {
    auto batch = std::move(pending_flush_);
    pending_flush_.clear();
    for (auto* h : batch) {
      h->on_flush();
    }
    writes_.submit();
  }
}

void event_loop::run() {
  constexpr int max_events = 256;
  epoll_event events[max_events];
  bool idle = false;  // the last wait ended with no event
  while (!stopping_) {
    // Busy, wake at least once a tick so that the timing wheel advances; idle (the last wait
    // saw no event), sleep until the wheel's next armed slot: a loop without timers due does
    // not wake 100 times a second for nothing. And wake in time for the first precise timer.
    auto wheel_wait_ms = timer_wheel::tick_ms;
    if (idle) {
      auto w = timers_.idle_wait_ms(now_ms_);
      wheel_wait_ms = w < 0 ? max_idle_wait_ms : std::clamp<int64_t>(w, 0, max_idle_wait_ms);
    }
    int n = 0;
    if (auto next = precise_.next_deadline_us(); next >= 0 && precise_wait_) {
      read_clock();
      auto wait_us = std::clamp<int64_t>(next - now_us_, 0, wheel_wait_ms * 1000);
      timespec timeout{static_cast<time_t>(wait_us / 1'000'000),
                       static_cast<long>(wait_us % 1'000'000 * 1000)};
      n = epoll_pwait2(epoll_fd_, events, max_events, &timeout, nullptr);
      if (n < 0 && errno == ENOSYS) {  // a kernel before 5.11: to the millisecond, rounded up
        precise_wait_ = false;
        continue;
      }
    } else {
      auto timeout = wheel_wait_ms;
      if (next >= 0) {
        read_clock();
        timeout = std::clamp<int64_t>((next - now_us_ + 999) / 1000, 0, timeout);
      }
      n = epoll_wait(epoll_fd_, events, max_events, static_cast<int>(timeout));
    }
    if (n < 0) {
      if (errno != EINTR) {
        throw_errno("epoll_wait");
      }
      n = 0;
    }
    idle = n == 0;
    read_clock();
    for (int i = 0; i < n; ++i) {
      static_cast<io_handler*>(events[i].data.ptr)->on_io(events[i].events);
    }
    run_posted();
    precise_.advance(now_us_);
    timers_.advance(now_ms_);
    run_flushes();
    retired_.clear();
  }
  run_posted();
  run_flushes();
  retired_.clear();
}

}  // namespace am::net
