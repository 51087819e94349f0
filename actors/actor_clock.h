// An actor's clock as the milliseconds policy/ code takes (CAF_GUIDE.md: tests drive the
// clock in virtual time, so policy decisions follow it).
#pragma once

#include <chrono>

#include "policy/time.h"

namespace am::actors {

template <class Self>
policy::time_ms now_ms(Self* self) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             self->clock().now().time_since_epoch())
      .count();
}

}  // namespace am::actors
