// Returning to the OS the memory a routing-snapshot rebuild freed. glibc keeps freed chunks in
// its arenas (one per thread that allocated) for reuse and gives back only the top of each
// heap, so the transient garbage of parsing a config and building snapshots (about 1 MB at
// start-up for 50 services) stays resident in every sidecar of a node. malloc_trim walks the
// arenas and releases their free pages; the sidecar calls it on the control path, once a new
// snapshot is in force, never per request.
#pragma once

#include <cstddef>

namespace am::actors {

struct memory_release {
  size_t anonymous_before_kb = 0;  // resident anonymous memory, before and after
  size_t anonymous_after_kb = 0;
};

memory_release release_free_memory();

}  // namespace am::actors
