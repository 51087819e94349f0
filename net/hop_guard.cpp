#include "net/hop_guard.h"

#include <random>

#include "config/syntax.h"

namespace am::net {

hop_verdict check_hops(std::string_view hops, std::string_view own_token, size_t max_hops) {
  size_t count = 0;
  while (!hops.empty()) {
    auto comma = hops.find(',');
    auto token = config::trim_ows(hops.substr(0, comma));
    hops = comma == std::string_view::npos ? std::string_view{} : hops.substr(comma + 1);
    if (token.empty()) {
      continue;
    }
    if (token == own_token) {
      return hop_verdict::loop;
    }
    ++count;
  }
  return count >= max_hops ? hop_verdict::too_many : hop_verdict::ok;
}

std::string hop_token(std::string_view service, std::string_view instance, bool inbound) {
  std::string out{service};
  out += '@';
  out += instance;
  if (inbound) {
    out += ":in";
  }
  return out;
}

std::string new_instance_id() {
  static constexpr char digits[] = "0123456789abcdef";
  auto bits = std::random_device{}();
  std::string out(8, '0');
  for (auto& c : out) {
    c = digits[bits & 0xf];
    bits >>= 4;
  }
  return out;
}

}  // namespace am::net
