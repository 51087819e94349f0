// The CAF half of the TLS module (net/tls_module.h): CAF's OpenSSL manager and publish, called
// by actors/tls_remoting.cpp through these two entry points.
#include <caf/openssl/manager.hpp>
#include <caf/openssl/publish.hpp>

#include <type_traits>

#include "actors/tls_remoting.h"

extern "C" void actormesh_caf_openssl_load(caf::actor_system_config& cfg) {
  cfg.load<caf::openssl::manager>();
}

extern "C" void actormesh_caf_openssl_publish(caf::actor_system& sys,
                                              const caf::strong_actor_ptr& whom,
                                              std::set<std::string>&& signatures, uint16_t port,
                                              const char* address,
                                              caf::expected<uint16_t>& result) {
  result = caf::openssl::publish(sys, whom, std::move(signatures), port, address, true);
}

static_assert(
    std::is_same_v<decltype(&actormesh_caf_openssl_load), am::actors::tls_remoting_loader>);
static_assert(
    std::is_same_v<decltype(&actormesh_caf_openssl_publish), am::actors::tls_remoting_publisher>);
