// Mesh TLS on the data path: mutual authentication by one CA and ALPN (`h2`, `http/1.1`), for
// a federation ingress and the sidecars that call it. OpenSSL over a connection's own
// non-blocking socket; connection.cpp drives it from the event loop.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

struct ssl_st;
struct ssl_ctx_st;

namespace am::net {

enum class tls_role { server, client };

// One side's settings, shared by its connections: this side's certificate and key, and the CA
// the peer's certificate must chain to (servers ask clients for one and refuse those without).
// Hostnames are not checked: a mesh peer is whoever holds a certificate of the mesh's CA.
class tls_context {
 public:
  // Null, with `error` saying which file and why, when the files do not load.
  static std::unique_ptr<tls_context> create(tls_role role, const std::string& cert,
                                             const std::string& key, const std::string& ca,
                                             std::string& error);
  ~tls_context();
  tls_context(const tls_context&) = delete;
  tls_context& operator=(const tls_context&) = delete;

  tls_role role() const { return role_; }
  ssl_ctx_st* native() const { return ctx_; }

 private:
  tls_context(tls_role role, ssl_ctx_st* ctx) : role_(role), ctx_(ctx) {}

  tls_role role_;
  ssl_ctx_st* ctx_;
};

// One connection's TLS session over its socket. Calls never block: they say what the socket
// must become (readable, writable) before the same call can go on.
class tls_stream {
 public:
  enum class status { done, want_read, want_write, closed, failed };

  // A client offers `alpn` ("h2" or "http/1.1"); a server picks h2 or http/1.1 from what the
  // client offers, in the client's order.
  tls_stream(const tls_context& ctx, int fd, std::string_view alpn = {});
  ~tls_stream();
  tls_stream(const tls_stream&) = delete;
  tls_stream& operator=(const tls_stream&) = delete;

  status handshake();
  bool established() const { return established_; }

  // Moves up to `size` bytes; `moved` is set when the status is done.
  status read(char* data, size_t size, size_t& moved);
  status write(const char* data, size_t size, size_t& moved);

  // Bytes OpenSSL holds that the socket will not announce again (a record read whole).
  bool has_pending() const;

  // Sends close_notify (best effort: the socket is closed after it anyway).
  void close_notify();

  // The protocol ALPN settled on ("" when none).
  std::string_view alpn() const;

  // Why the last call failed (the handshake: "certificate verify failed", ...).
  const std::string& error() const { return error_; }

 private:
  status result_of(int ret);

  ssl_st* ssl_;
  bool established_ = false;
  std::string error_;
};

}  // namespace am::net
