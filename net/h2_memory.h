// Memory for nghttp2 sessions: per-thread free lists by size class. A proxied HTTP/2 call
// makes nghttp2 allocate and free a dozen small blocks (streams, frames, header copies);
// glibc's per-thread cache holds only a few blocks per size, so most of those went through
// its slower paths. Blocks are reused by the thread that freed them (every session lives on
// one event-loop thread) and never returned to the system: the lists are bounded by the
// peak of concurrent streams.
#pragma once

#include <nghttp2/nghttp2.h>

namespace am::net {

// The allocator to give nghttp2_session_*_new3 (valid for the process's lifetime).
nghttp2_mem* h2_memory();

}  // namespace am::net
