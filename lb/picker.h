// A picker chooses one endpoint index out of a service's endpoint snapshot. Pickers are plain
// objects owned by one worker thread: no locks, no CAF, no I/O.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace am::lb {

class picker {
 public:
  virtual ~picker() = default;

  // The index of the next endpoint, or nothing when the set is empty.
  virtual std::optional<size_t> pick() = 0;
};

}  // namespace am::lb
