// One epoll event loop, owned by one thread. Handlers and timers are called on that thread
// only; post() and stop() are the only calls other threads may make.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "net/timer_wheel.h"
#include "net/write_batch.h"

namespace am::net {

class io_handler {
 public:
  virtual ~io_handler() = default;

  // Called with the epoll event bits (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP, ...).
  virtual void on_io(uint32_t events) = 0;

  // Called once after a batch of events for handlers that asked with flush_later().
  virtual void on_flush() {}
};

class event_loop {
 public:
  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // -- file descriptors --------------------------------------------------------------------------

  void add(int fd, uint32_t events, io_handler* h);
  void modify(int fd, uint32_t events, io_handler* h);
  void remove(int fd);

  // The loop owns adopted handlers: it deletes those still alive when it is destroyed.
  void adopt(io_handler* h) { owned_.insert(h); }

  // Deletes an adopted handler after the current batch of events, so that a handler closed
  // by another handler of the same batch is never called after it is freed.
  void retire(io_handler* h);

  // Calls h->on_flush() once the current batch of events is handled, so that everything a
  // batch queues for one socket goes out in one write (a response head and its body, say).
  void flush_later(io_handler* h) { pending_flush_.push_back(h); }

  // Queues a write for the end of the batch, where the writes of every flushed socket go out
  // in one submission (net/write_batch.h); submit_writes() sends what is queued at once (before
  // a queued socket's buffer changes or it closes).
  void write_later(int fd, const char* data, size_t size, write_batch::writer* w) {
    writes_.add(fd, data, size, w);
  }
  void submit_writes() { writes_.submit(); }
  bool batches_writes() const { return writes_.uses_io_uring(); }

  // -- timers ------------------------------------------------------------------------------------

  // Within a tick (10 ms) of the deadline: request, header and idle timeouts.
  void schedule(timer& t, int64_t delay_ms) { timers_.schedule(t, now_ms_ + delay_ms); }
  // Within a millisecond, for a wait a client feels (see precise_timers).
  void schedule_precise(timer& t, int64_t delay_ms) {
    precise_.schedule(t, now_us_ + delay_ms * 1000);
  }
  void cancel(timer& t) { timers_.cancel(t); }  // either kind

  // Milliseconds on the monotonic clock, read once per loop iteration.
  int64_t now_ms() const { return now_ms_; }

  // -- cross-thread ------------------------------------------------------------------------------

  // Runs `fn` on the loop thread; callable from any thread.
  void post(std::function<void()> fn);

  // Makes run() return after the current iteration; callable from any thread.
  void stop();

  // Runs until stop().
  void run();

 private:
  void read_clock();
  void run_posted();
  void run_flushes();

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int64_t now_ms_ = 0;
  int64_t now_us_ = 0;
  bool stopping_ = false;
  timer_wheel timers_;
  precise_timers precise_;
  bool precise_wait_ = true;  // epoll_pwait2 (microseconds) works here
  std::unique_ptr<io_handler> wake_;
  std::unordered_set<io_handler*> owned_;
  std::vector<std::unique_ptr<io_handler>> retired_;
  std::vector<io_handler*> pending_flush_;
  write_batch writes_;
  std::mutex posted_mutex_;
  std::vector<std::function<void()>> posted_;
};

}  // namespace am::net
