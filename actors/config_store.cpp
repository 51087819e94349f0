#include "actors/config_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "config/text_file.h"

namespace am::actors {

bool config_store::load(std::deque<config_revision>& out, size_t limit, std::string& error) const {
  std::string index;
  if (!config::read_text_file(dir_ + "/index", index)) {
    return true;  // a new store
  }
  std::istringstream lines{index};
  std::string line;
  while (std::getline(lines, line)) {
    config_revision r;
    std::istringstream fields{line};
    if (!(fields >> r.version >> r.applied_unix_ms) || !std::getline(fields >> std::ws, r.source)) {
      error = dir_ + "/index: unreadable line '" + line + "'";
      return false;
    }
    if (!config::read_text_file(dir_ + "/" + std::to_string(r.version) + ".yaml", r.document)) {
      error = dir_ + "/" + std::to_string(r.version) + ".yaml: cannot read";
      return false;
    }
    out.push_back(std::move(r));
    if (out.size() > limit) {
      out.pop_front();
    }
  }
  return true;
}

bool config_store::save(const config_revision& r, std::string& error) const {
  if (::mkdir(dir_.c_str(), 0755) != 0 && errno != EEXIST) {
    error = dir_ + ": " + std::strerror(errno);
    return false;
  }
  auto doc = dir_ + "/" + std::to_string(r.version) + ".yaml";
  {
    std::ofstream out{doc + ".tmp", std::ios::trunc};
    out << r.document;
    if (!out.flush()) {
      error = doc + ": cannot write";
      return false;
    }
  }
  if (std::rename((doc + ".tmp").c_str(), doc.c_str()) != 0) {
    error = doc + ": " + std::strerror(errno);
    return false;
  }
  std::ofstream index{dir_ + "/index", std::ios::app};
  index << r.version << ' ' << r.applied_unix_ms << ' ' << r.source << '\n';
  if (!index.flush()) {
    error = dir_ + "/index: cannot write";
    return false;
  }
  return true;
}

}  // namespace am::actors
