// What every actor test needs: CAF's test DSL (deterministic scheduling, virtual time,
// CAF_GUIDE.md §2) and a system config that knows actormesh's message types. A test defines
// CAF_SUITE, then includes this.
#pragma once

#define FAIL(m) CAF_FAIL(m)  // 0.17.6: fixture::request<T...>() uses an undefined FAIL
#include "caf/test/dsl.hpp"

#include "actors/messages.h"

namespace am::actors::testing {

struct test_config : caf::actor_system_config {
  test_config() { am::actors::add_message_types(*this); }
};

}  // namespace am::actors::testing
