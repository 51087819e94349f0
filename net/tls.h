// Mesh TLS on the data path: mutual authentication by one CA and ALPN (`h2`, `http/1.1`), for
// a federation ingress and the sidecars that call it. connection.cpp drives a stream over a
// connection's own non-blocking socket from the event loop.
//
// These are interfaces: the implementation (OpenSSL, net/openssl_tls.cpp) lives in the TLS
// module, loaded the first time a context is created (net/tls_module.h), so a sidecar without
// TLS never maps libssl and libcrypto (1.9 MB of its idle RSS).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace am::net {

enum class tls_role { server, client };

// One connection's TLS session over its socket. Calls never block: they say what the socket
// must become (readable, writable) before the same call can go on.
class tls_stream {
 public:
  enum class status { done, want_read, want_write, closed, failed };

  virtual ~tls_stream() = default;

  virtual status handshake() = 0;
  bool established() const { return established_; }

  // Moves up to `size` bytes; `moved` is set when the status is done.
  virtual status read(char* data, size_t size, size_t& moved) = 0;
  virtual status write(const char* data, size_t size, size_t& moved) = 0;

  // Bytes the TLS library holds that the socket will not announce again (a record read whole).
  virtual bool has_pending() const = 0;

  // Sends close_notify (best effort: the socket is closed after it anyway).
  virtual void close_notify() = 0;

  // The protocol ALPN settled on ("" when none).
  virtual std::string_view alpn() const = 0;

  // Why the last call failed (the handshake: "certificate verify failed", ...).
  const std::string& error() const { return error_; }

 protected:
  bool established_ = false;
  std::string error_;
};

// One side's settings, shared by its connections: this side's certificate and key, and the CA
// the peer's certificate must chain to (servers ask clients for one and refuse those without).
// Hostnames are not checked: a mesh peer is whoever holds a certificate of the mesh's CA.
class tls_context {
 public:
  // Null, with `error` saying which file and why (or why the TLS module did not load), when
  // the files do not load.
  static std::unique_ptr<tls_context> create(tls_role role, const std::string& cert,
                                             const std::string& key, const std::string& ca,
                                             std::string& error);
  virtual ~tls_context() = default;

  virtual tls_role role() const = 0;

  // A session over `fd`. A client offers `alpn` ("h2" or "http/1.1"); a server picks h2 or
  // http/1.1 from what the client offers, in the client's order.
  virtual std::unique_ptr<tls_stream> open(int fd, std::string_view alpn = {}) const = 0;
};

}  // namespace am::net
