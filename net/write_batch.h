// The writes one loop iteration queues on many sockets, sent with one system call: an
// io_uring submission of one send per socket, where a send() each would cross into the kernel
// once per socket (and on a virtual machine every crossing is dear). A batch of one goes out
// with send(): io_uring wins only from two sockets on.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <vector>

struct io_uring;

namespace am::net {

class write_batch {
 public:
  // Told how its write went: the bytes sent (perhaps fewer than asked), or -errno.
  class writer {
   public:
    virtual void on_written(ssize_t result) = 0;

   protected:
    ~writer() = default;
  };

  // Batches through io_uring when the kernel allows it (not in a sandbox that forbids
  // io_uring_setup) and ACTORMESH_IO_URING is not "off"; otherwise every write is a send().
  write_batch();
  ~write_batch();
  write_batch(const write_batch&) = delete;
  write_batch& operator=(const write_batch&) = delete;

  bool uses_io_uring() const { return ring_ != nullptr; }

  // Queues a write of [data, data + size) to `fd`. The bytes must stay where they are, and the
  // fd open, until the writer hears back from submit().
  void add(int fd, const char* data, size_t size, writer* w);
  bool empty() const { return queued_.empty(); }

  // Sends everything queued, then tells each writer how its write went. A writer may queue
  // again or call submit() while it is told (that starts a new batch).
  void submit();

 private:
  struct queued_write {
    int fd;
    const char* data;
    size_t size;
    writer* w;
    ssize_t result;
  };
  void send_through_ring(std::vector<queued_write>& batch);

  std::unique_ptr<io_uring> ring_;
  std::vector<queued_write> queued_;
  std::vector<queued_write> sending_;  // kept to reuse its capacity
};

}  // namespace am::net
