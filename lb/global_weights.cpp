#include "lb/global_weights.h"

#include <algorithm>
#include <cmath>

namespace am::lb {

namespace {

// The split of `offered` requests/s over queues of capacities `mu` that minimises the mean
// latency of M/M/1 queues (the square-root rule, Bell and Stidham 1983): with the fastest k
// queues in use, queue i gets mu_i - sqrt(mu_i) * (sum mu - offered) / sum sqrt(mu), k the
// largest for which every share is positive. At light load only the fastest queues get
// traffic; as the load nears the capacity the split nears proportional to capacity.
std::map<std::string, double> least_latency_split(const std::map<std::string, double>& mu,
                                                  double offered) {
  std::vector<std::pair<double, std::string>> by_speed;
  for (const auto& [key, m] : mu) {
    by_speed.emplace_back(m, key);
  }
  std::sort(by_speed.rbegin(), by_speed.rend());
  std::map<std::string, double> out;
  for (const auto& [m, key] : by_speed) {
    out[key] = 0;
  }
  double sum_mu = 0, sum_root = 0;
  size_t used = 0;
  for (size_t k = 0; k < by_speed.size(); ++k) {
    auto m = by_speed[k].first;
    auto next_mu = sum_mu + m, next_root = sum_root + std::sqrt(m);
    // Queue k joins if it would get a positive share.
    if (m - std::sqrt(m) * (next_mu - offered) / next_root <= 0) {
      break;
    }
    sum_mu = next_mu;
    sum_root = next_root;
    used = k + 1;
  }
  if (used == 0 || sum_mu <= offered) {
    return mu;  // overloaded (or nothing known): in proportion to capacity
  }
  for (size_t k = 0; k < used; ++k) {
    auto m = by_speed[k].first;
    out[by_speed[k].second] = m - std::sqrt(m) * (sum_mu - offered) / sum_root;
  }
  return out;
}

}  // namespace

double global_weights::capacity(const std::string& endpoint) const {
  auto i = capacity_.find(endpoint);
  return i == capacity_.end() ? 0 : i->second;
}

const std::map<std::string, uint32_t>& global_weights::update(
    const std::map<std::string, endpoint_load>& window) {
  std::map<std::string, double> next;
  double offered = 0;
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
    // A few requests say little: the estimate moves by how many there were.
    auto a = settings_.smoothing *
             std::min(1.0, static_cast<double>(load.requests) / settings_.min_requests);
    next[key] = old == capacity_.end() ? estimate : a * estimate + (1 - a) * old->second;
    offered += lambda;
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
  std::map<std::string, double> score;
  if (settings_.split == global_weight_settings::rule::least_latency) {
    double capacity = 0;
    for (const auto& [key, c] : capacity_) {
      capacity += c;
    }
    score = least_latency_split(capacity_,
                                std::max(offered, settings_.min_planned_utilisation * capacity));
  } else {
    score = capacity_;
  }
  double top = 0;
  for (const auto& [key, v] : score) {
    top = std::max(top, v);
  }
  weights_.clear();
  auto least = std::max(1.0, settings_.floor * settings_.scale);
  for (const auto& [key, v] : score) {
    auto w = top > 0 ? settings_.scale * v / top : settings_.scale;
    weights_[key] = static_cast<uint32_t>(std::lround(std::max(w, least)));
  }
  return weights_;
}

}  // namespace am::lb
