// Response promises waiting for a version to be reached (a snapshot installed, a config in
// force), answered with the version reached once it is at least theirs.
#pragma once

#include <caf/typed_response_promise.hpp>

#include <cstdint>
#include <utility>
#include <vector>

namespace am::actors {

class version_waiters {
 public:
  void add(uint64_t version, caf::typed_response_promise<uint64_t> promise) {
    waiting_.emplace_back(version, std::move(promise));
  }

  // Answers every promise waiting for `reached` or less with `reached`.
  void reach(uint64_t reached) {
    std::erase_if(waiting_, [&](auto& w) {
      if (w.first > reached) {
        return false;
      }
      w.second.deliver(reached);
      return true;
    });
  }

  bool empty() const { return waiting_.empty(); }

 private:
  std::vector<std::pair<uint64_t, caf::typed_response_promise<uint64_t>>> waiting_;
};

}  // namespace am::actors
