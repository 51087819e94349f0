#include "actors/tls_remoting.h"

#include <caf/sec.hpp>

#include "net/tls_module.h"

namespace am::actors {

bool load_tls_remoting(caf::actor_system_config& cfg, std::string& error) {
  auto load = reinterpret_cast<tls_remoting_loader>(
      net::tls_module_symbol(tls_remoting_loader_symbol, error));
  if (load == nullptr) {
    return false;
  }
  load(cfg);
  return true;
}

caf::expected<uint16_t> publish_tls(caf::actor_system& sys, const caf::strong_actor_ptr& whom,
                                    std::set<std::string> signatures, uint16_t port,
                                    const char* address) {
  std::string error;
  auto publish = reinterpret_cast<tls_remoting_publisher>(
      net::tls_module_symbol(tls_remoting_publisher_symbol, error));
  if (publish == nullptr) {
    return caf::make_error(caf::sec::runtime_error, error);
  }
  caf::expected<uint16_t> result{caf::sec::runtime_error};
  publish(sys, whom, std::move(signatures), port, address, result);
  return result;
}

}  // namespace am::actors
