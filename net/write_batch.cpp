#include "net/write_batch.h"

#include <liburing.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <utility>

namespace am::net {

namespace {

// Submission queue entries: a larger batch goes in several submissions.
constexpr unsigned ring_entries = 256;

bool io_uring_wanted() {
  const char* setting = std::getenv("ACTORMESH_IO_URING");
  return setting == nullptr || std::strcmp(setting, "off") != 0;
}

ssize_t send_now(int fd, const char* data, size_t size) {
  ssize_t n;
  do {
    n = ::send(fd, data, size, MSG_NOSIGNAL);
  } while (n < 0 && errno == EINTR);
  return n < 0 ? -errno : n;
}

}  // namespace

write_batch::write_batch() {
  if (io_uring_wanted()) {
    auto ring = std::make_unique<io_uring>();
    if (io_uring_queue_init(ring_entries, ring.get(), 0) == 0) {
      ring_ = std::move(ring);
    }
  }
}

write_batch::~write_batch() {
  if (ring_) {
    io_uring_queue_exit(ring_.get());
  }
}

void write_batch::add(int fd, const char* data, size_t size, writer* w) {
  queued_.push_back({fd, data, size, w, 0});
}

void write_batch::submit() {
  if (queued_.empty()) {
    return;
  }
  // Writers told below may queue again: that is the next batch, not this one.
  std::swap(sending_, queued_);
  auto batch = std::move(sending_);
  sending_.clear();
  if (ring_ && batch.size() > 1) {
    send_through_ring(batch);
  } else {
    for (auto& q : batch) {
      q.result = send_now(q.fd, q.data, q.size);
    }
  }
  for (auto& q : batch) {
    q.w->on_written(q.result);
  }
  batch.clear();
  if (sending_.capacity() < batch.capacity()) {
    sending_ = std::move(batch);
  }
}

void write_batch::send_through_ring(std::vector<queued_write>& batch) {
  for (size_t first = 0; first < batch.size(); first += ring_entries) {
    auto count = std::min<size_t>(ring_entries, batch.size() - first);
    for (size_t i = first; i < first + count; ++i) {
      io_uring_sqe* sqe = io_uring_get_sqe(ring_.get());
      io_uring_prep_send(sqe, batch[i].fd, batch[i].data, batch[i].size,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      io_uring_sqe_set_data64(sqe, i);
    }
    // MSG_DONTWAIT makes each send complete within the submission, a full socket buffer with
    // -EAGAIN (without it io_uring would wait for room itself, and the bytes would have to stay
    // put until then: the socket's O_NONBLOCK does not count here). So the wait returns at
    // once; it also makes sure that no send is still in flight when the writers are told. A
    // ring that fails (it never has) fails the writes it did not report: a byte sent twice
    // would be worse than a connection closed.
    for (size_t i = first; i < first + count; ++i) {
      batch[i].result = -EIO;
    }
    int submitted;
    do {
      submitted = io_uring_submit_and_wait(ring_.get(), static_cast<unsigned>(count));
    } while (submitted == -EINTR);
    for (size_t seen = 0; submitted >= 0 && seen < count; ++seen) {
      io_uring_cqe* cqe = nullptr;
      int waited;
      do {
        waited = io_uring_wait_cqe(ring_.get(), &cqe);
      } while (waited == -EINTR);
      if (waited != 0) {
        break;
      }
      batch[io_uring_cqe_get_data64(cqe)].result = cqe->res;
      io_uring_cqe_seen(ring_.get(), cqe);
    }
  }
}

}  // namespace am::net
