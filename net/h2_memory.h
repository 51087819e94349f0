// Memory for nghttp2 sessions: per-thread free lists by size class. A proxied HTTP/2 call
// makes nghttp2 allocate and free a dozen small blocks (streams, frames, header copies);
// glibc's per-thread cache holds only a few blocks per size, so most of those went through
// its slower paths. Blocks are reused by the thread that freed them (every session lives on
// one event-loop thread); each thread keeps at most `sidecar.h2_free_list_bytes` of them
// (spread over the size classes), the rest goes back to malloc, so a burst of streams (or an
// attack) does not pin its peak memory for the process's life.
#pragma once

#include <nghttp2/nghttp2.h>

#include <cstddef>

namespace am::net {

// The allocator to give nghttp2_session_*_new3 (valid for the process's lifetime).
nghttp2_mem* h2_memory();

// The bytes of free blocks each thread may keep (default 1 MiB); set once at start.
void set_h2_free_list_bytes(size_t bytes);

// The bytes of free blocks the calling thread keeps now (for tests and metrics).
size_t h2_free_list_held_bytes();

}  // namespace am::net
