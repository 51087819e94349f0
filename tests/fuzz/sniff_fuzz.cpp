// Protocol detection on intercepted connections: any first bytes, whole or cut short (a
// ClientHello's lengths are attacker-controlled), must give a verdict without reading past
// them; one byte more never turns a decided verdict into another.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "net/protocol_sniffer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using am::net::sniff_protocol;
  using am::net::sniffed_protocol;
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto whole = sniff_protocol(bytes);
  auto last = sniff_protocol(bytes, true);
  if (last.protocol == sniffed_protocol::undecided) {
    std::abort();  // with no more bytes to come, there is always a verdict
  }
  if (size > 0 && size <= am::net::max_sniff_bytes) {
    auto shorter = sniff_protocol(bytes.substr(0, size - 1));
    if (shorter.protocol != sniffed_protocol::undecided && shorter.protocol != whole.protocol) {
      std::abort();
    }
  }
  return 0;
}
