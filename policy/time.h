// Time in policy code is passed in, never read: milliseconds on a monotonic clock. Tests
// drive it with a fake clock; actors pass their clock's now().
#pragma once

#include <cstdint>

namespace am::policy {

using time_ms = int64_t;

}  // namespace am::policy
