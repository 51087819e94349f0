#include "net/h2_memory.h"

#include <nghttp2/nghttp2.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace am::net {

namespace {

// Each block starts with a header naming its class; the caller's pointer follows it.
struct alignas(std::max_align_t) block_header {
  size_t size_class;  // index into class_sizes, or `unpooled`
  size_t size;        // what the caller asked for (for realloc)
};

constexpr std::array<size_t, 8> class_sizes = {64, 128, 256, 512, 1024, 2048, 4096, 8192};
constexpr size_t unpooled = class_sizes.size();
// Bytes of free blocks each thread keeps per size class (set_h2_free_list_bytes / classes).
std::atomic<size_t> free_bytes_per_class{1024 * 1024 / class_sizes.size()};

struct free_block {
  free_block* next;
};

// Set when this thread's pool is gone (thread exit): later frees go straight to free().
thread_local bool pool_gone = false;

struct thread_pool {
  std::array<free_block*, class_sizes.size()> heads{};
  std::array<size_t, class_sizes.size()> counts{};

  ~thread_pool() {
    pool_gone = true;
    for (auto* head : heads) {
      while (head != nullptr) {
        auto* next = head->next;
        std::free(reinterpret_cast<block_header*>(head) - 1);
        head = next;
      }
    }
  }
};

thread_local thread_pool pool;

size_t class_of(size_t size) {
  for (size_t i = 0; i < class_sizes.size(); ++i) {
    if (size <= class_sizes[i]) {
      return i;
    }
  }
  return unpooled;
}

void* allocate(size_t size, void*) {
  auto c = pool_gone ? unpooled : class_of(size);
  block_header* h = nullptr;
  if (c != unpooled && pool.heads[c] != nullptr) {
    auto* b = pool.heads[c];
    pool.heads[c] = b->next;
    --pool.counts[c];
    h = reinterpret_cast<block_header*>(b) - 1;
  } else {
    auto bytes = sizeof(block_header) + (c != unpooled ? class_sizes[c] : size);
    h = static_cast<block_header*>(std::malloc(bytes));
    if (h == nullptr) {
      return nullptr;
    }
  }
  h->size_class = c;
  h->size = size;
  return h + 1;
}

void release(void* p, void*) {
  if (p == nullptr) {
    return;
  }
  auto* h = static_cast<block_header*>(p) - 1;
  auto c = h->size_class;
  if (c == unpooled || pool_gone ||
      (pool.counts[c] + 1) * class_sizes[c] >
          free_bytes_per_class.load(std::memory_order_relaxed)) {
    std::free(h);
    return;
  }
  auto* b = reinterpret_cast<free_block*>(p);
  b->next = pool.heads[c];
  pool.heads[c] = b;
  ++pool.counts[c];
}

void* allocate_zeroed(size_t n, size_t size, void* user) {
  auto* p = allocate(n * size, user);
  if (p != nullptr) {
    std::memset(p, 0, n * size);
  }
  return p;
}

void* reallocate(void* p, size_t size, void* user) {
  if (p == nullptr) {
    return allocate(size, user);
  }
  auto* h = static_cast<block_header*>(p) - 1;
  if (h->size_class != unpooled && size <= class_sizes[h->size_class]) {
    h->size = size;
    return p;  // still fits its block
  }
  auto* fresh = allocate(size, user);
  if (fresh != nullptr) {
    std::memcpy(fresh, p, h->size < size ? h->size : size);
    release(p, user);
  }
  return fresh;
}

nghttp2_mem memory{nullptr, &allocate, &release, &allocate_zeroed, &reallocate};

}  // namespace

void set_h2_free_list_bytes(size_t bytes) {
  free_bytes_per_class.store(bytes / class_sizes.size(), std::memory_order_relaxed);
}

size_t h2_free_list_held_bytes() {
  size_t total = 0;
  for (size_t c = 0; c < class_sizes.size(); ++c) {
    total += pool.counts[c] * class_sizes[c];
  }
  return total;
}

nghttp2_mem* h2_memory() {
#if defined(__SANITIZE_ADDRESS__)
  (void)memory;
  return nullptr;  // nghttp2's own malloc calls, so that ASan sees every block's life
#else
  return &memory;
#endif
}

}  // namespace am::net
