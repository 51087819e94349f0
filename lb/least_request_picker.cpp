#include "lb/least_request_picker.h"

#include "lb/bits.h"

namespace am::lb {

void least_request_picker::update(const std::vector<member>& members) {
  select_candidates(members, candidates_);
  table_.build(candidates_);
  ends_.clear();
  uint64_t sum = 0;
  for (const auto& c : candidates_) {
    sum += c.weight;
    ends_.push_back(sum);
  }
}

std::optional<size_t> least_request_picker::pick(const pick_input& in) {
  if (candidates_.empty()) {
    return std::nullopt;
  }
  size_t first = table_.draw(in.random);
  if (candidates_.size() == 1 || in.load == nullptr) {
    return candidates_[first].position;  // no second candidate, or nothing to compare
  }
  // The second draw uses re-mixed bits; only when it repeats the first is it redrawn among the
  // others, which gives each of them exactly w / (sum - w_first) in all.
  uint64_t bits = mix64(in.random ^ golden_gamma);
  size_t second = table_.draw(bits);
  if (second == first) {
    second = draw_other(mix64(bits), first);
  }
  const auto& a = candidates_[first];
  const auto& b = candidates_[second];
  uint64_t load_a = uint64_t{in.load->active(a.position)} * b.weight;
  uint64_t load_b = uint64_t{in.load->active(b.position)} * a.weight;
  return load_b < load_a ? b.position : a.position;
}

size_t least_request_picker::draw_other(uint64_t random, size_t first) const {
  // Leave the first's slice out of [0, sum) and step over it.
  uint64_t first_weight = candidates_[first].weight;
  uint64_t first_begin = ends_[first] - first_weight;
  uint64_t point = below(random, ends_.back() - first_weight);
  point += point >= first_begin ? first_weight : 0;
  return branchless_partition_point(ends_.data(), ends_.size(),
                                    [point](uint64_t end) { return end <= point; });
}

}  // namespace am::lb
