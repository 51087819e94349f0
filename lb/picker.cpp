#include "lb/picker.h"

#include "lb/least_request_picker.h"
#include "lb/random_picker.h"
#include "lb/ring_hash_picker.h"
#include "lb/round_robin_picker.h"

namespace am::lb {

picker_ptr make_picker(algorithm a) {
  switch (a) {
    case algorithm::round_robin:
      return std::make_unique<round_robin_picker>();
    case algorithm::least_request:
      return std::make_unique<least_request_picker>();
    case algorithm::random:
      return std::make_unique<random_picker>();
    case algorithm::ring_hash:
      return std::make_unique<ring_hash_picker>();
  }
  return nullptr;  // unreachable: every enumerator is handled above
}

}  // namespace am::lb
