// The HTTP/2 allocator's free lists give memory back beyond their cap: a burst of streams (or
// an attack) does not pin its peak for the process's life.
#include <catch2/catch.hpp>

#include <vector>

#include "net/h2_memory.h"

using namespace am::net;

TEST_CASE("freed blocks beyond the free-list cap go back to malloc") {
  auto* mem = h2_memory();
  if (mem == nullptr) {
    SUCCEED("the sanitizer build uses nghttp2's own malloc calls: no free lists");
    return;
  }
  set_h2_free_list_bytes(64 * 1024);  // 8 KiB per size class
  std::vector<void*> blocks;
  for (int i = 0; i < 1000; ++i) {
    blocks.push_back(mem->malloc(4000, mem->mem_user_data));  // the 4096-byte class
  }
  for (auto* b : blocks) {
    mem->free(b, mem->mem_user_data);
  }
  CHECK(h2_free_list_held_bytes() <= 64 * 1024 / 8);
  CHECK(h2_free_list_held_bytes() >= 4096);  // some are kept for reuse
  set_h2_free_list_bytes(1024 * 1024);
}
