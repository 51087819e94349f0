// A file's identity for change polling: inode, size and modification time. Comparing two
// tells whether the file was replaced or edited (renames into place included).
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>

namespace am::actors {

struct file_identity {
  ino_t inode = 0;
  off_t size = -1;
  int64_t mtime_ns = -1;

  friend bool operator==(const file_identity&, const file_identity&) = default;
};

inline file_identity identify(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return {};
  }
  return {st.st_ino, st.st_size,
          static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

}  // namespace am::actors
