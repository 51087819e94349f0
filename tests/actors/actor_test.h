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

// One service with one endpoint on 127.0.0.1:port.
inline config::endpoint_table table_of(const std::string& service, uint16_t port) {
  return {{service, {config::endpoint{"127.0.0.1", port, 1, {}}}}};
}

// What every actor test's fixture extends: `after(t)` lets virtual time pass (with the
// messages due before and after it), `stop(actors...)` ends the actors a test spawned.
struct actor_fixture : test_coordinator_fixture<test_config> {
  void after(caf::timespan t) {
    sched.run();
    advance_time(t);
    sched.run();
  }

  template <class... Handles>
  void stop(const Handles&... actors) {
    (caf::anon_send_exit(actors, caf::exit_reason::user_shutdown), ...);
    sched.run();
  }
};

}  // namespace am::actors::testing
