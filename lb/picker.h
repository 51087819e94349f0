// A picker chooses one member of an endpoint subset per request. Pickers are plain objects owned
// by one worker thread: no locks, no CAF, no I/O, no clocks; randomness and load come in as
// arguments so that tests drive them with a seeded RNG and a fake load view.
//
// Every picker follows the same candidate rule (lb/candidates.h), so callers can swap algorithms
// without changing what "ejected" or "weight 0" means:
//   1. the candidates are the eligible members; when none is eligible, every member is one again
//      (the "everything is failing" rule: keep sending rather than fail every request);
//   2. among the candidates, a member of weight 0 is chosen only when every candidate has
//      weight 0, and then they all count as weight 1 (a standby, used only as a last resort).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace am::lb {

// -- inputs -----------------------------------------------------------------------------------

// One endpoint as a picker sees it, named by its position in the subset's member list.
struct member {
  // Stable hash of the endpoint's address: the ring hash places the endpoint by it, so the same
  // endpoint lands on the same ring points whatever its position.
  uint64_t identity = 0;
  // Relative share of the traffic; 0 means never while a candidate with a weight exists.
  uint32_t weight = 1;
  // False while the endpoint is ejected, draining, or has its probation probe out.
  bool eligible = true;
};

// In-flight requests per member position, read by the load-aware pickers on each pick.
class load_view {
 public:
  virtual ~load_view() = default;

  // The number of requests sent to the member at `member_position` and not yet answered.
  virtual uint32_t active(size_t member_position) const = 0;
};

// What one pick may look at; every field is optional for the pickers that ignore it.
struct pick_input {
  // Uniform bits from the worker's seeded source, fresh per pick (random and least_request).
  uint64_t random = 0;
  // The request's key hash (ring_hash only); the picker mixes it again, so a weak hash is fine.
  uint64_t hash = 0;
  // In-flight requests per member (least_request only); null means every member is idle.
  const load_view* load = nullptr;
};

// -- picker -----------------------------------------------------------------------------------

enum class algorithm { round_robin, least_request, random, ring_hash };

class picker {
 public:
  virtual ~picker() = default;

  // Replaces the member list (the worker's control path: a new endpoint set, new weights or a
  // change of eligibility); may allocate, as it runs rarely.
  virtual void update(const std::vector<member>& members) = 0;

  // A member position chosen by the candidate rule above, or nothing only when there are no
  // members; never allocates, as it runs once per request.
  virtual std::optional<size_t> pick(const pick_input& in) = 0;
};

using picker_ptr = std::unique_ptr<picker>;

// A picker with no members (every pick is nothing until the first update()).
picker_ptr make_picker(algorithm a);

}  // namespace am::lb
