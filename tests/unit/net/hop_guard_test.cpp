// Forwarding-loop detection: a sidecar's own token on the same side is a loop; the count of
// tokens is bounded.
#include <catch2/catch.hpp>

#include "net/hop_guard.h"

using namespace am::net;

TEST_CASE("a request that passed this sidecar's side before is a loop") {
  auto out = hop_token("web", "1a2b3c4d", false);
  auto in = hop_token("web", "1a2b3c4d", true);
  CHECK(out == "web@1a2b3c4d");
  CHECK(in == "web@1a2b3c4d:in");
  CHECK(check_hops("", out, 16) == hop_verdict::ok);
  CHECK(check_hops("api@00000001, web@1a2b3c4d", out, 16) == hop_verdict::loop);
  CHECK(check_hops("api@00000001,web@1a2b3c4d ,x@2", out, 16) == hop_verdict::loop);
  // The same sidecar's other side: a service calling itself through the mesh.
  CHECK(check_hops("web@1a2b3c4d", in, 16) == hop_verdict::ok);
  // Another sidecar of the same service (another instance) is no loop.
  CHECK(check_hops("web@99999999", out, 16) == hop_verdict::ok);
  CHECK(check_hops("web@1a2b3c4d:inx", in, 16) == hop_verdict::ok);
}

TEST_CASE("the hop count is bounded; empty list items do not count") {
  CHECK(check_hops("a@1, b@2, c@3", "z@9", 4) == hop_verdict::ok);
  CHECK(check_hops("a@1, b@2, c@3, d@4", "z@9", 4) == hop_verdict::too_many);
  CHECK(check_hops(" , ,a@1,,", "z@9", 2) == hop_verdict::ok);
}

TEST_CASE("instance ids are 8 hex digits and differ between sidecars") {
  auto a = new_instance_id();
  auto b = new_instance_id();
  CHECK(a.size() == 8);
  CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
  CHECK(a != b);  // 1 in 4 billion to fail
}
