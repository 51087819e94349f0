// A growable byte queue: append at the back, consume from the front. Its storage is kept
// between messages, so a connection in steady state does not allocate.
#pragma once

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace am::net {

class byte_buffer {
 public:
  const char* data() const { return storage_.data() + begin_; }
  size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }

  void append(const char* p, size_t n) {
    if (n == 0) {
      return;
    }
    reserve_back(n);
    std::memcpy(storage_.data() + end_, p, n);
    end_ += n;
  }
  void append(std::string_view s) { append(s.data(), s.size()); }

  // Writable space of at least `n` bytes at the back; commit() what was written.
  char* reserve_back(size_t n) {
    if (storage_.size() - end_ < n) {
      compact();
      if (storage_.size() - end_ < n) {
        storage_.resize(end_ + n);
      }
    }
    return storage_.data() + end_;
  }
  void commit(size_t n) { end_ += n; }

  void consume(size_t n) {
    begin_ += n;
    if (begin_ == end_) {
      begin_ = end_ = 0;
    }
  }
  void clear() { begin_ = end_ = 0; }

  // Frees the storage (for connections that go idle after a large transfer).
  void release() {
    std::vector<char>{}.swap(storage_);
    begin_ = end_ = 0;
  }

 private:
  void compact() {
    if (begin_ > 0) {
      std::memmove(storage_.data(), storage_.data() + begin_, size());
      end_ -= begin_;
      begin_ = 0;
    }
  }

  std::vector<char> storage_;
  size_t begin_ = 0;
  size_t end_ = 0;
};

}  // namespace am::net
