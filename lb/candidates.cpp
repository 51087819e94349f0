#include "lb/candidates.h"

namespace am::lb {

namespace {

// The eligibility tier: the eligible members, or every member when none is eligible.
bool in_tier(const member& m, bool any_eligible) {
  return m.eligible || !any_eligible;
}

}  // namespace

void select_candidates(const std::vector<member>& members, std::vector<candidate>& out) {
  out.clear();
  bool any_eligible = false;
  for (const auto& m : members) {
    any_eligible = any_eligible || m.eligible;
  }
  bool any_weight = false;
  for (const auto& m : members) {
    any_weight = any_weight || (in_tier(m, any_eligible) && m.weight > 0);
  }
  for (size_t i = 0; i < members.size(); ++i) {
    const auto& m = members[i];
    if (!in_tier(m, any_eligible)) {
      continue;
    }
    if (any_weight && m.weight == 0) {
      continue;
    }
    out.push_back({static_cast<uint32_t>(i), any_weight ? m.weight : 1u});
  }
}

}  // namespace am::lb
