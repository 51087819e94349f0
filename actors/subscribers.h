// The subscriber list of a publishing actor (discovery, commander): subscribers are
// monitored, and one that goes down is dropped.
#pragma once

#include <algorithm>
#include <vector>

#include <caf/system_messages.hpp>

namespace am::actors {

template <class Handle>
class subscriber_list {
 public:
  template <class Self>
  void add(Self* self, Handle h) {
    self->monitor(h);
    subscribers_.push_back(std::move(h));
  }

  void remove(const caf::down_msg& msg) {
    subscribers_.erase(std::remove_if(subscribers_.begin(), subscribers_.end(),
                                      [&](const Handle& h) { return h.address() == msg.source; }),
                       subscribers_.end());
  }

  auto begin() { return subscribers_.begin(); }
  auto end() { return subscribers_.end(); }

 private:
  std::vector<Handle> subscribers_;
};

}  // namespace am::actors
