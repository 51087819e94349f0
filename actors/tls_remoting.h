// Mutual TLS on middleman links (CAF_GUIDE.md §3): CAF's OpenSSL module, reached through the
// TLS module (net/tls_module.h) so that a node without `tls` never maps libcaf_openssl,
// libssl and libcrypto. Once loaded, the manager is `sys.openssl_manager()` as usual.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>

#include <cstdint>
#include <set>
#include <string>

namespace am::actors {

// Adds CAF's OpenSSL manager to `cfg` (the actor system then starts it); false, with `error`,
// when the TLS module does not load.
bool load_tls_remoting(caf::actor_system_config& cfg, std::string& error);

// caf::openssl::publish through the module (with SO_REUSEADDR, as every listener of a node);
// load_tls_remoting must have succeeded.
caf::expected<uint16_t> publish_tls(caf::actor_system& sys, const caf::strong_actor_ptr& whom,
                                    std::set<std::string> signatures, uint16_t port,
                                    const char* address);

template <class Handle>
caf::expected<uint16_t> publish_tls(const Handle& whom, uint16_t port, const char* address) {
  auto& sys = whom.home_system();
  return publish_tls(sys, caf::actor_cast<caf::strong_actor_ptr>(whom), sys.message_types(whom),
                     port, address);
}

// The module's entry points (extern "C" in actors/openssl_remoting.cpp). C linkage allows no
// C++ class by value across the boundary, so the publisher fills `result` in.
using tls_remoting_loader = void (*)(caf::actor_system_config& cfg);
using tls_remoting_publisher = void (*)(caf::actor_system& sys, const caf::strong_actor_ptr& whom,
                                        std::set<std::string>&& signatures, uint16_t port,
                                        const char* address, caf::expected<uint16_t>& result);
inline constexpr const char* tls_remoting_loader_symbol = "actormesh_caf_openssl_load";
inline constexpr const char* tls_remoting_publisher_symbol = "actormesh_caf_openssl_publish";

}  // namespace am::actors
