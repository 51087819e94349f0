// Minimal JSON writing for the admin /config dump and the access log.
#pragma once

#include <string>
#include <string_view>

#include "config/model.h"

namespace am::config {

// Appends `s` as a quoted JSON string to `out`.
void append_json_string(std::string& out, std::string_view s);

std::string to_json(const node& n);
std::string to_json(const endpoint_table& t);

}  // namespace am::config
