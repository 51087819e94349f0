#include "actors/log.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace am::actors {

namespace {

void write(const char* level, const std::string& line) {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  time_t secs = ms / 1000;
  tm t{};
  gmtime_r(&secs, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &t);
  std::fprintf(stderr, "%s.%03dZ %s %s\n", stamp, static_cast<int>(ms % 1000), level, line.c_str());
}

}  // namespace

void log_info(const std::string& line) {
  write("info", line);
}

void log_warn(const std::string& line) {
  write("warn", line);
}

void log_error(const std::string& line) {
  write("error", line);
}

}  // namespace am::actors
