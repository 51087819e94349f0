// The open streams of one HTTP/2 connection by id, and closed stream objects kept for reuse.
// Stream ids only grow, so a vector kept in id order finds a stream by binary search and a
// new one goes at the end: once a connection is warm, opening and closing streams allocates
// nothing (a map node per stream, twice per proxied call, showed up in profiles).
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace am::net {

template <class T>
class stream_table {
 public:
  using entry = std::pair<int32_t, std::unique_ptr<T>>;

  explicit stream_table(size_t max_spare) : max_spare_(max_spare) {}

  T* find(int32_t id) const {
    auto it = locate(id);
    return it != open_.end() && it->first == id ? it->second.get() : nullptr;
  }

  // The object for new stream `id`: a spare one if any, else what `make()` returns.
  template <class Make>
  T& open(int32_t id, Make&& make) {
    std::unique_ptr<T> object;
    if (spare_.empty()) {
      object = make();
    } else {
      object = std::move(spare_.back());
      spare_.pop_back();
    }
    auto& slot = open_.empty() || open_.back().first < id
                     ? open_.emplace_back(id, std::move(object))
                     : *open_.emplace(locate(id), id, std::move(object));
    return *slot.second;
  }

  // Stream `id` ended: its object goes back to the spares (destroyed beyond `max_spare`).
  void close(int32_t id) {
    auto it = locate(id);
    if (it == open_.end() || it->first != id) {
      return;
    }
    if (spare_.size() < max_spare_) {
      spare_.push_back(std::move(it->second));
    }
    open_.erase(it);
  }

  // Every open stream, taken out at once (the connection failed).
  std::vector<entry> take_all() { return std::exchange(open_, {}); }

  size_t size() const { return open_.size(); }
  // The i-th open stream in id order.
  T* at(size_t i) const { return open_[i].second.get(); }
  bool empty() const { return open_.empty(); }
  auto begin() { return open_.begin(); }
  auto end() { return open_.end(); }
  void clear() { open_.clear(); }

 private:
  auto locate(int32_t id) const {
    return std::lower_bound(open_.begin(), open_.end(), id,
                            [](const entry& e, int32_t key) { return e.first < key; });
  }
  auto locate(int32_t id) {
    return std::lower_bound(open_.begin(), open_.end(), id,
                            [](const entry& e, int32_t key) { return e.first < key; });
  }

  std::vector<entry> open_;
  std::vector<std::unique_ptr<T>> spare_;
  size_t max_spare_;
};

}  // namespace am::net
