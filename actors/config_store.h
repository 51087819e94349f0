// Where the commander keeps its versions across restarts (`commander.store`): one file per
// version (`<N>.yaml`, the document) and an index (`index`, one line per version: number,
// unix ms, source), both written before the version is pushed. Plain file I/O, no CAF.
#pragma once

#include <deque>
#include <string>

#include "actors/messages.h"

namespace am::actors {

class config_store {
 public:
  explicit config_store(std::string dir) : dir_(std::move(dir)) {}

  bool enabled() const { return !dir_.empty(); }

  // The stored versions, oldest first, at most `limit`; empty when there are none. False
  // (and `error`) when the store exists but cannot be read.
  bool load(std::deque<config_revision>& out, size_t limit, std::string& error) const;

  // Appends one version (the document first, then its index line, so that an index line
  // always has its document).
  bool save(const config_revision& r, std::string& error) const;

 private:
  std::string dir_;
};

}  // namespace am::actors
