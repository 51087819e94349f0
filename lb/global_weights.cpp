#include "lb/global_weights.h"

#include <algorithm>
#include <cmath>

namespace am::lb {

double global_weights::capacity(const std::string& endpoint) const {
  auto i = capacity_.find(endpoint);
  return i == capacity_.end() ? 0 : i->second;
}

const std::map<std::string, uint32_t>& global_weights::update(
    const std::map<std::string, endpoint_load>& window) {
  std::map<std::string, double> next;
  double known_sum = 0;
  size_t known = 0;
  for (const auto& [key, load] : window) {
    auto old = capacity_.find(key);
    if (load.requests == 0 || load.latency_sum_s <= 0) {
      if (old != capacity_.end()) {
        next[key] = old->second;  // no news: keep the estimate
      }
      continue;
    }
    auto lambda = static_cast<double>(load.requests) / settings_.window_s;
    auto latency = load.latency_sum_s / static_cast<double>(load.requests);
    auto success = 1.0 - static_cast<double>(load.errors) / static_cast<double>(load.requests);
    auto estimate = (lambda + 1.0 / latency) * std::max(success, 0.0);
    next[key] = old == capacity_.end()
                    ? estimate
                    : settings_.smoothing * estimate + (1 - settings_.smoothing) * old->second;
  }
  for (const auto& [key, c] : next) {
    known_sum += c;
    ++known;
  }
  auto mean = known > 0 ? known_sum / static_cast<double>(known) : 1.0;
  for (const auto& [key, load] : window) {
    next.try_emplace(key, mean);  // new and never measured: the mean
  }
  capacity_ = std::move(next);
  double top = 0;
  for (const auto& [key, c] : capacity_) {
    top = std::max(top, c);
  }
  weights_.clear();
  auto least = std::max(1.0, settings_.floor * settings_.scale);
  for (const auto& [key, c] : capacity_) {
    auto w = top > 0 ? settings_.scale * c / top : settings_.scale;
    weights_[key] = static_cast<uint32_t>(std::lround(std::max(w, least)));
  }
  return weights_;
}

}  // namespace am::lb
