#include "net/service_state.h"

#include <algorithm>

namespace am::net {

subset_picker::subset_picker(lb::algorithm algorithm, std::vector<endpoint_state_ptr> members,
                             std::vector<uint32_t> weights, std::vector<uint64_t> identities)
    : algorithm_(algorithm),
      members_(std::move(members)),
      weights_(std::move(weights)),
      identities_(std::move(identities)),
      picker_(lb::make_picker(algorithm)) {
  picker_->update(view());
}

bool subset_picker::serves(const route_service& svc, const endpoint_subset& subset,
                           lb::algorithm algorithm) const {
  if (algorithm != algorithm_ || subset.members.size() != members_.size() ||
      subset.weights != weights_) {
    return false;
  }
  for (size_t i = 0; i < members_.size(); ++i) {
    if (svc.endpoints[subset.members[i]].id != members_[i]->id) {
      return false;
    }
  }
  return true;
}

std::vector<lb::member> subset_picker::view() const {
  std::vector<lb::member> v(members_.size());
  for (size_t i = 0; i < members_.size(); ++i) {
    v[i] = lb::member{identities_[i], weights_[i], members_[i]->eligible()};
  }
  return v;
}

void subset_picker::refresh() {
  auto v = view();
  picker_->update(v);
  if (ring_) {
    ring_->update(v);
  }
}

std::optional<size_t> subset_picker::pick(uint64_t random, const uint64_t* hash) {
  if (hash == nullptr || algorithm_ == lb::algorithm::ring_hash) {
    return picker_->pick({random, hash != nullptr ? *hash : random, this});
  }
  if (!ring_) {
    ring_ = lb::make_picker(lb::algorithm::ring_hash);
    ring_->update(view());
  }
  return ring_->pick({random, *hash, this});
}

const endpoint_state_ptr& service_state::endpoint(endpoint_id id) {
  auto& e = endpoints[id];
  if (!e) {
    e = std::make_shared<endpoint_state>();
    e->id = id;
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

void service_state::refresh_pickers() {
  std::erase_if(pickers, [](const std::weak_ptr<subset_picker>& w) { return w.expired(); });
  for (auto& w : pickers) {
    w.lock()->refresh();
  }
}

}  // namespace am::net
