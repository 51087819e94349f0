// The loop's write batch over real socket pairs: through io_uring and through send(), every
// byte arrives in order, a full socket answers -EAGAIN at once and a partial write says how
// much went.
#include "net/write_batch.h"

#include <fcntl.h>
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>
#include <vector>

using am::net::write_batch;

namespace {

struct socket_pair {
  int writer = -1;
  int reader = -1;
  socket_pair() {
    int fds[2];
    REQUIRE(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0);
    writer = fds[0];
    reader = fds[1];
  }
  socket_pair(const socket_pair&) = delete;
  socket_pair& operator=(const socket_pair&) = delete;
  ~socket_pair() {
    ::close(writer);
    ::close(reader);
  }
  std::string read_all() const {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::recv(reader, buf, sizeof buf, 0)) > 0) {
      out.append(buf, static_cast<size_t>(n));
    }
    return out;
  }
  // Writes until the socket takes no more.
  void fill() const {
    std::string chunk(65536, 'f');
    while (::send(writer, chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
    }
    REQUIRE(errno == EAGAIN);
  }
};

struct recorder final : write_batch::writer {
  std::vector<ssize_t> results;
  void on_written(ssize_t result) override { results.push_back(result); }
};

// Whether this kernel lets a process set up an io_uring at all (a container's seccomp may not).
bool kernel_has_io_uring() {
  io_uring ring;
  if (io_uring_queue_init(2, &ring, 0) != 0) {
    return false;
  }
  io_uring_queue_exit(&ring);
  return true;
}

// A batch made with ACTORMESH_IO_URING set to `setting`.
std::unique_ptr<write_batch> make_batch(const char* setting) {
  ::setenv("ACTORMESH_IO_URING", setting, 1);
  auto batch = std::make_unique<write_batch>();
  ::unsetenv("ACTORMESH_IO_URING");
  return batch;
}

}  // namespace

TEST_CASE("the batch uses io_uring where the kernel has it, unless it is turned off") {
  CHECK(make_batch("on")->uses_io_uring() == kernel_has_io_uring());
  CHECK_FALSE(make_batch("off")->uses_io_uring());
}

TEST_CASE("writes queued on many sockets all arrive, in order, and each writer hears its count") {
  for (const char* setting : {"on", "off"}) {
    INFO("ACTORMESH_IO_URING=" << setting);
    auto batch = make_batch(setting);
    std::vector<socket_pair> pairs(5);
    std::vector<recorder> writers(5);
    std::vector<std::string> first, second;
    for (size_t i = 0; i < pairs.size(); ++i) {
      first.push_back("first write on socket " + std::to_string(i) + "\n");
      second.push_back(std::string(1000 + i, static_cast<char>('a' + i)));
    }
    for (size_t i = 0; i < pairs.size(); ++i) {
      batch->add(pairs[i].writer, first[i].data(), first[i].size(), &writers[i]);
    }
    CHECK_FALSE(batch->empty());
    batch->submit();
    CHECK(batch->empty());
    for (size_t i = 0; i < pairs.size(); ++i) {
      batch->add(pairs[i].writer, second[i].data(), second[i].size(), &writers[i]);
    }
    batch->submit();
    for (size_t i = 0; i < pairs.size(); ++i) {
      CHECK(pairs[i].read_all() == first[i] + second[i]);
      CHECK(writers[i].results == std::vector<ssize_t>{static_cast<ssize_t>(first[i].size()),
                                                       static_cast<ssize_t>(second[i].size())});
    }
  }
}

TEST_CASE("a full socket answers -EAGAIN at once, and a partial write says how much went") {
  for (const char* setting : {"on", "off"}) {
    INFO("ACTORMESH_IO_URING=" << setting);
    auto batch = make_batch(setting);
    socket_pair full, open, small;
    full.fill();
    recorder to_full, to_open, to_small;
    std::string hello = "hello";
    std::string big(8 * 1024 * 1024, 'b');  // more than a socket buffer holds
    batch->add(full.writer, hello.data(), hello.size(), &to_full);
    batch->add(open.writer, hello.data(), hello.size(), &to_open);
    batch->add(small.writer, big.data(), big.size(), &to_small);
    batch->submit();  // returns: nothing waits for room
    CHECK(to_full.results == std::vector<ssize_t>{-EAGAIN});
    CHECK(to_open.results == std::vector<ssize_t>{static_cast<ssize_t>(hello.size())});
    REQUIRE(to_small.results.size() == 1);
    auto went = to_small.results[0];
    CHECK(went > 0);
    CHECK(went < static_cast<ssize_t>(big.size()));
    CHECK(small.read_all() == big.substr(0, static_cast<size_t>(went)));
    CHECK(open.read_all() == hello);
  }
}

TEST_CASE("a writer that queues again while it is told starts the next batch") {
  struct again final : write_batch::writer {
    write_batch* batch = nullptr;
    int fd = -1;
    std::string more = " and more";
    std::vector<ssize_t> results;
    void on_written(ssize_t result) override {
      results.push_back(result);
      if (results.size() == 1) {
        batch->add(fd, more.data(), more.size(), this);
      }
    }
  };
  for (const char* setting : {"on", "off"}) {
    INFO("ACTORMESH_IO_URING=" << setting);
    auto batch = make_batch(setting);
    socket_pair a, b;
    again wa, wb;
    wa.batch = wb.batch = batch.get();
    wa.fd = a.writer;
    wb.fd = b.writer;
    std::string text = "text";
    batch->add(a.writer, text.data(), text.size(), &wa);
    batch->add(b.writer, text.data(), text.size(), &wb);
    batch->submit();
    CHECK_FALSE(batch->empty());  // the writers' second writes wait for the next submit
    batch->submit();
    CHECK(batch->empty());
    CHECK(a.read_all() == "text and more");
    CHECK(b.read_all() == "text and more");
    CHECK(wa.results == std::vector<ssize_t>{4, 9});
  }
}
