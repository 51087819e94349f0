#include "actors/memory_release.h"

#include <malloc.h>
#include <unistd.h>

#include <fstream>

namespace am::actors {

namespace {

// Resident pages not backed by a file (statm: resident minus shared), in KB.
size_t resident_anonymous_kb() {
  std::ifstream statm{"/proc/self/statm"};
  size_t size = 0, resident = 0, shared = 0;
  if (!(statm >> size >> resident >> shared) || shared > resident) {
    return 0;
  }
  return (resident - shared) * static_cast<size_t>(sysconf(_SC_PAGESIZE)) / 1024;
}

}  // namespace

memory_release release_free_memory() {
  memory_release r;
  r.anonymous_before_kb = resident_anonymous_kb();
  malloc_trim(0);
  r.anonymous_after_kb = resident_anonymous_kb();
  return r;
}

}  // namespace am::actors
