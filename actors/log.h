// Process log lines on stderr: "2026-11-27T13:50:00.123Z info discovery: ...". CAF's own
// logging is compiled out of Debian's build, so the reasons for failures are logged here.
#pragma once

#include <string>

namespace am::actors {

void log_info(const std::string& line);
void log_warn(const std::string& line);
void log_error(const std::string& line);

}  // namespace am::actors
