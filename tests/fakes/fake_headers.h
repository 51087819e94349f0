// A header_source over a plain map (exact, lowercase names), for policy tests.
#pragma once

#include <map>
#include <string>

#include "policy/header_source.h"

namespace am::fakes {

struct fake_headers : policy::header_source {
  virtual ~fake_headers() = default;

  std::map<std::string, std::string> fields;

  const std::string* find(std::string_view name) const override {
    auto i = fields.find(std::string{name});
    return i == fields.end() ? nullptr : &i->second;
  }
};

}  // namespace am::fakes
