#include <catch2/catch.hpp>

#include "net/service_state.h"

using namespace am::net;

namespace {

endpoint_state_ptr endpoint(endpoint_id id) {
  auto e = std::make_shared<endpoint_state>();
  e->id = id;
  return e;
}

using tried = std::vector<const endpoint_state*>;

}  // namespace

TEST_CASE("a retry leaves a priority whose members all failed the request for the next") {
  service_state svc{"payments"};
  // This cluster's endpoint, then two peer clusters' ingresses in failover order.
  auto local = endpoint(1), west = endpoint(2), north = endpoint(3);
  subset_picker picker{svc,
                       am::lb::algorithm::round_robin,
                       {{local, 1, 11, 0}, {west, 1, 22, 1}, {north, 1, 33, 2}},
                       1.4};
  for (uint64_t r = 1; r <= 64; ++r) {
    auto random = r * 0x9e3779b97f4a7c15ULL;
    CHECK(picker.pick(random, nullptr) == 0u);  // healthy: it keeps all the traffic...
    // ...until it is ejected, but its retries go on to the first peer, never further.
    CHECK(picker.pick(random, nullptr, tried{local.get()}) == 1u);
    // Both failed it (the first peer has nothing healthy behind its ingress): the next peer.
    CHECK(picker.pick(random, nullptr, tried{local.get(), west.get()}) == 2u);
  }
  local->ejected = true;
  picker.refresh();
  for (uint64_t r = 1; r <= 64; ++r) {
    auto random = r * 0x9e3779b97f4a7c15ULL;
    CHECK(picker.pick(random, nullptr) == 1u);
    CHECK(picker.pick(random, nullptr, tried{west.get()}) == 2u);
    CHECK(picker.pick(random, nullptr, tried{north.get()}) == 1u);  // west is drawn: no change
  }
}

TEST_CASE("a retry stays in a priority that has other members") {
  service_state svc{"payments"};
  auto a = endpoint(1), b = endpoint(2), west = endpoint(3);
  subset_picker picker{
      svc, am::lb::algorithm::round_robin, {{a, 1, 11, 0}, {b, 1, 22, 0}, {west, 1, 33, 1}}, 1.4};
  for (uint64_t r = 1; r <= 16; ++r) {
    auto picked = picker.pick(r * 0x9e3779b97f4a7c15ULL, nullptr, tried{a.get()});
    REQUIRE(picked.has_value());
    CHECK(*picked < 2u);  // a or b: the worker re-picks to leave a
  }
}
