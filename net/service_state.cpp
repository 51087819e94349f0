#include "net/service_state.h"

#include <algorithm>
#include <cstdint>
#include <string_view>
#include <unordered_map>

#include "lb/bits.h"
#include "lb/locality.h"

namespace am::net {

subset_picker::subset_picker(const service_state& service, lb::algorithm algorithm,
                             std::vector<member> members, double overprovisioning)
    : service_(service),
      algorithm_(algorithm),
      current_(algorithm_now()),
      overprovisioning_(overprovisioning),
      members_(std::move(members)) {
  for (size_t i = 0; i < members_.size(); ++i) {
    auto p = members_[i].priority;
    auto at = std::find_if(levels_.begin(), levels_.end(),
                           [&](const auto& l) { return l->priority >= p; });
    if (at == levels_.end() || (*at)->priority != p) {
      auto l = std::make_unique<level>();
      l->owner = this;
      l->priority = p;
      l->picker = lb::make_picker(current_);
      at = levels_.insert(at, std::move(l));
    }
    (*at)->positions.push_back(i);
  }
  refresh();
}

bool subset_picker::serves(const route_service& svc, const endpoint_subset& subset,
                           lb::algorithm algorithm) const {
  if (algorithm != algorithm_ || subset.members.size() != members_.size() ||
      svc.policy.locality.overprovisioning != overprovisioning_) {
    return false;
  }
  for (size_t i = 0; i < members_.size(); ++i) {
    const auto& ep = svc.endpoints[subset.members[i]];
    const auto& m = members_[i];
    if (ep.id != m.state->id || subset.weights[i] != m.weight || ep.priority != m.priority) {
      return false;
    }
  }
  return true;
}

lb::algorithm subset_picker::algorithm_now() const {
  if (!service_.global) {
    return algorithm_;
  }
  return service_.weights_fresh ? lb::algorithm::random : lb::algorithm::least_request;
}

std::vector<lb::member> subset_picker::view(const level& l) const {
  bool global = service_.global_weights_in_force();
  std::vector<lb::member> v(l.positions.size());
  for (size_t i = 0; i < l.positions.size(); ++i) {
    const auto& m = members_[l.positions[i]];
    auto weight = global && m.state->global_weight > 0 ? m.state->global_weight : m.weight;
    v[i] = lb::member{m.identity, weight, m.state->eligible()};
  }
  return v;
}

void subset_picker::refresh() {
  if (auto now = algorithm_now(); now != current_) {
    current_ = now;
    for (auto& l : levels_) {
      l->picker = lb::make_picker(current_);
    }
  }
  std::vector<uint64_t> healthy(levels_.size(), 0);
  std::vector<uint64_t> total(levels_.size(), 0);
  for (size_t i = 0; i < levels_.size(); ++i) {
    auto& l = *levels_[i];
    auto v = view(l);
    l.picker->update(v);
    if (l.ring) {
      l.ring->update(v);
    }
    for (const auto& m : v) {
      total[i] += m.weight;
      healthy[i] += m.eligible ? m.weight : 0;
    }
  }
  auto shares = lb::priority_shares(healthy, total, overprovisioning_);
  double upto = 0;
  for (size_t i = 0; i < levels_.size(); ++i) {
    levels_[i]->share = shares[i];
    upto += shares[i];
    levels_[i]->below =
        upto >= 1.0 ? UINT64_MAX : static_cast<uint64_t>(upto * 18446744073709551616.0);
  }
  // The last level with a share takes whatever rounding left over.
  for (auto l = levels_.rbegin(); l != levels_.rend(); ++l) {
    if ((*l)->share > 0) {
      (*l)->below = UINT64_MAX;
      break;
    }
  }
}

double subset_picker::share_of(uint8_t priority) const {
  for (const auto& l : levels_) {
    if (l->priority == priority) {
      return l->share;
    }
  }
  return 0;
}

std::optional<size_t> subset_picker::pick(uint64_t random, const uint64_t* hash,
                                          std::span<const endpoint_state* const> tried) {
  if (levels_.empty()) {
    return std::nullopt;
  }
  size_t at = 0;
  if (levels_.size() > 1) {
    // Independent of the bits the level's picker uses.
    auto draw = lb::mix64((hash != nullptr ? *hash : random) ^ lb::golden_gamma);
    while (at + 1 < levels_.size() && draw >= levels_[at]->below) {
      ++at;
    }
  }
  auto all_tried = [&](const level& candidate) {
    if (candidate.positions.size() > tried.size()) {
      return false;
    }
    return std::all_of(candidate.positions.begin(), candidate.positions.end(), [&](size_t m) {
      return std::find(tried.begin(), tried.end(), members_[m].state.get()) != tried.end();
    });
  };
  while (!tried.empty() && at + 1 < levels_.size() && all_tried(*levels_[at])) {
    ++at;
  }
  auto* l = levels_[at].get();
  std::optional<size_t> position;
  if (hash == nullptr || current_ == lb::algorithm::ring_hash) {
    position = l->picker->pick({random, hash != nullptr ? *hash : random, l});
  } else {
    if (!l->ring) {
      l->ring = lb::make_picker(lb::algorithm::ring_hash);
      l->ring->update(view(*l));
    }
    position = l->ring->pick({random, *hash, l});
  }
  if (!position) {
    return std::nullopt;
  }
  return l->positions[*position];
}

const endpoint_state_ptr& service_state::endpoint(endpoint_id id, const std::string& key) {
  auto& e = endpoints[id];
  if (!e) {
    e = std::make_shared<endpoint_state>();
    e->id = id;
    e->key = key;
    e->ejected = health && health->is_ejected(id);
    e->probation = health && health->on_probation(id);
  }
  return e;
}

void service_state::apply(service_health_ptr h) {
  health = std::move(h);
  for (auto& [id, e] : endpoints) {
    e->ejected = health->is_ejected(id);
    e->probation = health->on_probation(id);
    e->probed = false;  // new health: probes start over (a lost probe never blocks forever)
  }
  refresh_pickers();
}

void service_state::apply(const service_weights& weights, int64_t now_ms) {
  std::unordered_map<std::string_view, uint32_t> by_key;
  for (size_t i = 0; i < weights.endpoints.size() && i < weights.weights.size(); ++i) {
    by_key.emplace(weights.endpoints[i], weights.weights[i]);
  }
  for (auto& [id, e] : endpoints) {
    auto i = by_key.find(e->key);
    e->global_weight = i == by_key.end() ? 0 : i->second;
  }
  weights_fresh = true;
  weights_at_ms = now_ms;
  refresh_pickers();
}

void service_state::refresh_pickers() {
  std::erase_if(pickers, [](const std::weak_ptr<subset_picker>& w) { return w.expired(); });
  for (auto& w : pickers) {
    w.lock()->refresh();
  }
}

}  // namespace am::net
