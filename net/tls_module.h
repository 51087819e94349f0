// The TLS module, libactormesh-tls.so: OpenSSL (net/openssl_tls.cpp) and CAF's OpenSSL module
// (actors/openssl_remoting.cpp), loaded with dlopen the first time a node needs TLS. Looked
// for at $ACTORMESH_TLS_MODULE, else in ../lib/actormesh/ next to the executable (the build
// tree's and an installation's layout). Loaded once and never unloaded.
#pragma once

#include <memory>
#include <string>

#include "net/tls.h"

namespace am::net {

// The address of the module's `symbol`, loading the module first; null, with `error`, when
// the module or the symbol cannot be found.
void* tls_module_symbol(const char* symbol, std::string& error);

// The module's entry points (extern "C", so dlsym finds them by these names). C linkage allows
// no C++ class by value across the boundary, so the factory hands over a raw owning pointer.
using tls_context_factory = tls_context* (*)(tls_role role, const std::string& cert,
                                             const std::string& key, const std::string& ca,
                                             std::string& error);
inline constexpr const char* tls_context_factory_symbol = "actormesh_tls_context";

}  // namespace am::net
