// The OpenSSL implementation of net/tls.h, built into the TLS module (net/tls_module.h) and
// reached through its one entry point, actormesh_tls_context.
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <type_traits>

#include "net/tls.h"
#include "net/tls_module.h"

namespace am::net {

namespace {

// OpenSSL's error queue, oldest first, as one line (and emptied).
std::string drain_errors() {
  std::string out;
  while (auto code = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(code, text, sizeof text);
    if (!out.empty()) {
      out += "; ";
    }
    out += text;
  }
  return out;
}

// The server's ALPN choice: the first of the client's protocols that we speak.
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_size, const unsigned char* in,
                unsigned int in_size, void*) {
  for (unsigned i = 0; i < in_size;) {
    unsigned size = in[i];
    if (i + 1 + size > in_size) {
      break;
    }
    std::string_view name{reinterpret_cast<const char*>(in + i + 1), size};
    if (name == "h2" || name == "http/1.1") {
      *out = in + i + 1;
      *out_size = static_cast<unsigned char>(size);
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + size;
  }
  return SSL_TLSEXT_ERR_NOACK;  // go on without ALPN: the first bytes still tell HTTP/2
}

// Before each call: its errors alone are read after it.
void clear_errors() {
  ERR_clear_error();
  errno = 0;
}

int clamp(size_t size) {
  return static_cast<int>(size > INT_MAX ? INT_MAX : size);
}

class openssl_stream final : public tls_stream {
 public:
  openssl_stream(SSL_CTX* ctx, tls_role role, int fd, std::string_view alpn);
  ~openssl_stream() override { SSL_free(ssl_); }
  openssl_stream(const openssl_stream&) = delete;
  openssl_stream& operator=(const openssl_stream&) = delete;

  status handshake() override;
  status read(char* data, size_t size, size_t& moved) override;
  status write(const char* data, size_t size, size_t& moved) override;
  bool has_pending() const override { return SSL_has_pending(ssl_) == 1; }
  void close_notify() override;
  std::string_view alpn() const override;

 private:
  status result_of(int ret);

  SSL* ssl_;
};

class openssl_context final : public tls_context {
 public:
  openssl_context(tls_role role, SSL_CTX* ctx) : role_(role), ctx_(ctx) {}
  ~openssl_context() override { SSL_CTX_free(ctx_); }
  openssl_context(const openssl_context&) = delete;
  openssl_context& operator=(const openssl_context&) = delete;

  tls_role role() const override { return role_; }
  std::unique_ptr<tls_stream> open(int fd, std::string_view alpn) const override {
    return std::make_unique<openssl_stream>(ctx_, role_, fd, alpn);
  }

 private:
  tls_role role_;
  SSL_CTX* ctx_;
};

std::unique_ptr<tls_context> create_context(tls_role role, const std::string& cert,
                                            const std::string& key, const std::string& ca,
                                            std::string& error) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(role == tls_role::server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) {
    error = "cannot create a TLS context: " + drain_errors();
    return nullptr;
  }
  auto out = std::make_unique<openssl_context>(role, ctx);
  auto fail = [&](const std::string& what) {
    error = what + ": " + drain_errors();
    return nullptr;
  };
  if (SSL_CTX_use_certificate_chain_file(ctx, cert.c_str()) != 1) {
    return fail("cannot load the certificate " + cert);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    return fail("cannot load the key " + key + " (of " + cert + ")");
  }
  if (SSL_CTX_load_verify_locations(ctx, ca.c_str(), nullptr) != 1) {
    return fail("cannot load the CA " + ca);
  }
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // Writes go straight from a connection's output buffer, which may move between tries.
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  // HTTP frames its own messages: a peer closing without close_notify is a close, not an error.
  // No renegotiation (TLS 1.2): a peer could make us pay handshakes on a connection at will.
  SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
  int verify = SSL_VERIFY_PEER;
  if (role == tls_role::server) {
    verify |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    SSL_CTX_set_alpn_select_cb(ctx, select_alpn, nullptr);
    SSL_CTX_set_num_tickets(ctx, 0);  // clients here never resume: tickets are wasted work
  }
  SSL_CTX_set_verify(ctx, verify, nullptr);
  return out;
}

openssl_stream::openssl_stream(SSL_CTX* ctx, tls_role role, int fd, std::string_view alpn)
    : ssl_(SSL_new(ctx)) {
  SSL_set_fd(ssl_, fd);
  if (role == tls_role::client) {
    SSL_set_connect_state(ssl_);
    if (!alpn.empty()) {
      std::string wire(1, static_cast<char>(alpn.size()));
      wire += alpn;
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(wire.data()),
                          static_cast<unsigned>(wire.size()));
    }
  } else {
    SSL_set_accept_state(ssl_);
  }
}

tls_stream::status openssl_stream::handshake() {
  clear_errors();
  int ret = SSL_do_handshake(ssl_);
  if (ret == 1) {
    established_ = true;
    return status::done;
  }
  return result_of(ret);
}

tls_stream::status openssl_stream::read(char* data, size_t size, size_t& moved) {
  clear_errors();
  int ret = SSL_read(ssl_, data, clamp(size));
  if (ret > 0) {
    moved = static_cast<size_t>(ret);
    return status::done;
  }
  return result_of(ret);
}

tls_stream::status openssl_stream::write(const char* data, size_t size, size_t& moved) {
  clear_errors();
  int ret = SSL_write(ssl_, data, clamp(size));
  if (ret > 0) {
    moved = static_cast<size_t>(ret);
    return status::done;
  }
  return result_of(ret);
}

tls_stream::status openssl_stream::result_of(int ret) {
  int saved_errno = errno;
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return status::want_read;
    case SSL_ERROR_WANT_WRITE:
      return status::want_write;
    case SSL_ERROR_ZERO_RETURN:
      return status::closed;
    case SSL_ERROR_SYSCALL:
      if (saved_errno == 0) {
        return status::closed;
      }
      error_ = std::strerror(saved_errno);
      return status::failed;
    default: {
      error_ = drain_errors();
      auto verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        error_ += std::string{" ("} + X509_verify_cert_error_string(verify) + ")";
      }
      if (error_.empty()) {
        error_ = "TLS failed";
      }
      return status::failed;
    }
  }
}

void openssl_stream::close_notify() {
  if (established_) {
    clear_errors();
    SSL_shutdown(ssl_);
  }
}

std::string_view openssl_stream::alpn() const {
  const unsigned char* name = nullptr;
  unsigned size = 0;
  SSL_get0_alpn_selected(ssl_, &name, &size);
  return name == nullptr ? std::string_view{}
                         : std::string_view{reinterpret_cast<const char*>(name), size};
}

}  // namespace

}  // namespace am::net

extern "C" am::net::tls_context* actormesh_tls_context(am::net::tls_role role,
                                                       const std::string& cert,
                                                       const std::string& key,
                                                       const std::string& ca, std::string& error) {
  return am::net::create_context(role, cert, key, ca, error).release();
}
static_assert(std::is_same_v<decltype(&actormesh_tls_context), am::net::tls_context_factory>);
