#include "net/tap_recorder.h"

#include <utility>

namespace am::net {

void tap_recorder::install(tap_set_ptr taps, std::shared_ptr<tap_sink> out) {
  pending_ = {};
  pending_.generation = taps ? taps->generation : 0;
  acknowledge_ = true;
  out_ = std::move(out);
  budget_.clear();
  dropped_.clear();
  if (taps && !taps->taps.empty()) {
    for (const auto& t : taps->taps) {
      budget_.push_back(t.filter.max_per_second);
    }
    dropped_.assign(taps->taps.size(), 0);
    taps_ = std::move(taps);
  } else {
    taps_ = nullptr;
  }
}

void tap_recorder::record(const tap_view& r, std::string_view source, clock unix_ms) {
  const auto& taps = taps_->taps;
  for (size_t i = 0; i < taps.size(); ++i) {
    if (!config::matches(taps[i].filter, r.destination, r.method, r.path, r.status)) {
      continue;
    }
    if (budget_[i] == 0) {
      ++dropped_[i];
      continue;
    }
    --budget_[i];
    auto& e = pending_.events.emplace_back().event;
    pending_.events.back().tap = taps[i].id;
    e.unix_ms = unix_ms() - static_cast<int64_t>(r.latency_us / 1000);
    e.source = source;
    e.destination = r.destination;
    e.method = r.method;
    e.authority = r.authority;
    e.path = r.path;
    e.status = r.status;
    e.grpc_status = r.grpc_status;
    e.latency_us = r.latency_us;
    e.endpoint = r.endpoint;
    e.attempt = r.attempts;
    e.error = r.error;
  }
}

void tap_recorder::refill() {
  if (!taps_) {
    return;
  }
  for (size_t i = 0; i < budget_.size(); ++i) {
    budget_[i] = taps_->taps[i].filter.max_per_second;
  }
}

void tap_recorder::flush() {
  if (!out_) {
    return;
  }
  if (taps_) {
    for (size_t i = 0; i < dropped_.size(); ++i) {
      if (dropped_[i] > 0) {
        pending_.dropped.emplace_back(taps_->taps[i].id, std::exchange(dropped_[i], 0));
      }
    }
  }
  if (!acknowledge_ && pending_.events.empty() && pending_.dropped.empty()) {
    return;
  }
  pending_.installed = std::exchange(acknowledge_, false);
  auto generation = pending_.generation;
  out_->deliver(std::exchange(pending_, {}));
  pending_.generation = generation;
  if (!taps_) {
    out_ = nullptr;  // the last batch (the removal's acknowledgement) is out
  }
}

}  // namespace am::net
