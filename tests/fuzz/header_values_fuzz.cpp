// Values the proxy parses from request heads: grpc-timeout, gRPC statuses, authorities and
// absolute-form targets, and x-actormesh-hops.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "net/grpc.h"
#include "net/hop_guard.h"
#include "net/http1_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)am::net::grpc::parse_timeout_ms(text);
  (void)am::net::grpc::parse_status(text);
  std::string_view host, authority, path;
  uint16_t port = 0;
  am::net::split_authority(text, 80, host, port);
  am::net::split_absolute_form(text, authority, path);
  am::net::check_hops(text, "web@1a2b3c4d", 16);
  return 0;
}
