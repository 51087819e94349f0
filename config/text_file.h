// A whole (small) file as text: node files, stored config versions, credentials. One reader
// for all of them, so that each caller only says what a missing file means to it.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace am::config {

// The file's bytes in `out`; false (and `out` untouched) when it cannot be opened.
inline bool read_text_file(const std::string& path, std::string& out) {
  std::ifstream in{path, std::ios::binary};
  if (!in) {
    return false;
  }
  std::ostringstream text;
  text << in.rdbuf();
  out = std::move(text).str();
  return true;
}

}  // namespace am::config
