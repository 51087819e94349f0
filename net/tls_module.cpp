#include "net/tls_module.h"

#include <dlfcn.h>
#include <unistd.h>

#include <climits>
#include <cstdlib>

namespace am::net {

namespace {

std::string module_path() {
  if (const char* path = std::getenv("ACTORMESH_TLS_MODULE"); path != nullptr && *path != 0) {
    return path;
  }
  char exe[PATH_MAX];
  auto size = readlink("/proc/self/exe", exe, sizeof exe - 1);
  std::string dir = size > 0 ? std::string{exe, static_cast<size_t>(size)} : std::string{};
  dir = dir.substr(0, dir.rfind('/') + 1);
  return dir + "../lib/actormesh/libactormesh-tls.so";
}

struct loaded_module {
  void* handle = nullptr;
  std::string error;
};

const loaded_module& tls_module() {
  static const loaded_module module = [] {
    loaded_module m;
    auto path = module_path();
    m.handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (m.handle == nullptr) {
      const char* why = dlerror();
      m.error = "cannot load the TLS module " + path + ": " + (why ? why : "unknown error") +
                " (set ACTORMESH_TLS_MODULE to its path)";
    }
    return m;
  }();
  return module;
}

}  // namespace

void* tls_module_symbol(const char* symbol, std::string& error) {
  const auto& m = tls_module();
  if (m.handle == nullptr) {
    error = m.error;
    return nullptr;
  }
  void* address = dlsym(m.handle, symbol);
  if (address == nullptr) {
    error = std::string{"the TLS module has no "} + symbol + " (a module of another version?)";
  }
  return address;
}

std::unique_ptr<tls_context> tls_context::create(tls_role role, const std::string& cert,
                                                 const std::string& key, const std::string& ca,
                                                 std::string& error) {
  auto factory =
      reinterpret_cast<tls_context_factory>(tls_module_symbol(tls_context_factory_symbol, error));
  return std::unique_ptr<tls_context>{factory == nullptr ? nullptr
                                                         : factory(role, cert, key, ca, error)};
}

}  // namespace am::net
