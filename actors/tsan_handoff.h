// Hand-offs of shared immutable objects between threads through CAF messages, made visible to
// ThreadSanitizer. CAF's mailbox synchronises in libcaf_core, which Debian does not build with
// TSan: without these, every snapshot, health or weight table a worker reads would be
// reported as racing with the actor that built it. Nothing in any other build.
#pragma once

#if defined(__SANITIZE_THREAD__)
#include <sanitizer/tsan_interface.h>
#endif

namespace am::actors {

// The sender, once `object` is complete and before it is sent.
inline void handoff_release([[maybe_unused]] const void* object) {
#if defined(__SANITIZE_THREAD__)
  __tsan_release(const_cast<void*>(object));
#endif
}

// The receiver, before it touches `object`.
inline void handoff_acquire([[maybe_unused]] const void* object) {
#if defined(__SANITIZE_THREAD__)
  __tsan_acquire(const_cast<void*>(object));
#endif
}

}  // namespace am::actors
