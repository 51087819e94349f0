// Mesh TLS sessions over a socket pair (no network): certificates made here by a throwaway CA,
// both ends driven by hand until their handshakes end.
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <string>

#include "net/tls.h"

using namespace am::net;

namespace {

struct key_and_cert {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
};

// A P-256 key and a certificate for `name`, signed by `issuer` (itself, and a CA, when null).
key_and_cert make_cert(const char* name, const key_and_cert* issuer) {
  key_and_cert out{EVP_EC_gen("P-256"), X509_new()};
  X509_set_version(out.cert, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(out.cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(out.cert), -60);
  X509_gmtime_adj(X509_getm_notAfter(out.cert), 3600);
  X509_set_pubkey(out.cert, out.key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(out.cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name), -1, -1, 0);
  const auto& signer = issuer != nullptr ? *issuer : out;
  X509_set_issuer_name(out.cert, X509_get_subject_name(signer.cert));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, signer.cert, out.cert, nullptr, nullptr, 0);
  auto* ext = X509V3_EXT_conf_nid(nullptr, &ctx, NID_basic_constraints,
                                  issuer != nullptr ? "CA:FALSE" : "critical,CA:TRUE");
  X509_add_ext(out.cert, ext, -1);
  X509_EXTENSION_free(ext);
  X509_sign(out.cert, signer.key, EVP_sha256());
  return out;
}

// A CA in a scratch folder issuing PEM files.
class test_ca {
 public:
  explicit test_ca(const std::string& name)
      : dir_(std::filesystem::temp_directory_path() /
             ("am-tls-test-" + name + "-" + std::to_string(::getpid()))),
        ca_(make_cert(name.c_str(), nullptr)) {
    std::filesystem::create_directories(dir_);
    write_cert(ca_path(), ca_.cert);
  }
  ~test_ca() {
    std::filesystem::remove_all(dir_);
    X509_free(ca_.cert);
    EVP_PKEY_free(ca_.key);
  }

  std::string ca_path() const { return (dir_ / "ca.pem").string(); }

  // (cert, key) paths of a new certificate for `name`.
  std::pair<std::string, std::string> issue(const std::string& name) {
    auto made = make_cert(name.c_str(), &ca_);
    auto cert = (dir_ / (name + ".pem")).string();
    auto key = (dir_ / (name + ".key")).string();
    write_cert(cert, made.cert);
    FILE* f = std::fopen(key.c_str(), "w");
    PEM_write_PrivateKey(f, made.key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
    X509_free(made.cert);
    EVP_PKEY_free(made.key);
    return {cert, key};
  }

  std::unique_ptr<tls_context> context(tls_role role, const std::string& name) {
    auto [cert, key] = issue(name);
    std::string error;
    auto ctx = tls_context::create(role, cert, key, ca_path(), error);
    INFO(error);
    REQUIRE(ctx);
    return ctx;
  }

 private:
  static void write_cert(const std::string& path, X509* cert) {
    FILE* f = std::fopen(path.c_str(), "w");
    PEM_write_X509(f, cert);
    std::fclose(f);
  }

  std::filesystem::path dir_;
  key_and_cert ca_;
};

struct socket_pair {
  int fds[2] = {-1, -1};
  socket_pair() { REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds) == 0); }
  ~socket_pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
};

bool pending(tls_stream::status s) {
  return s == tls_stream::status::want_read || s == tls_stream::status::want_write;
}

// Steps both handshakes until neither waits for the other: each end's final status.
std::pair<tls_stream::status, tls_stream::status> handshake(tls_stream& client,
                                                            tls_stream& server) {
  auto c = client.handshake();
  auto s = server.handshake();
  for (int i = 0; i < 20 && (pending(c) || pending(s)); ++i) {
    if (pending(c)) {
      c = client.handshake();
    }
    if (pending(s)) {
      s = server.handshake();
    }
  }
  return {c, s};
}

std::string read_all(tls_stream& s) {
  std::string out;
  char buffer[64];
  size_t moved = 0;
  while (s.read(buffer, sizeof buffer, moved) == tls_stream::status::done) {
    out.append(buffer, moved);
  }
  return out;
}

}  // namespace

TEST_CASE("tls: peers of one CA shake hands, agree on ALPN and carry bytes both ways") {
  test_ca mesh("mesh");
  auto server_ctx = mesh.context(tls_role::server, "east-ingress");
  auto client_ctx = mesh.context(tls_role::client, "west-sidecar");
  for (std::string alpn : {"h2", "http/1.1"}) {
    socket_pair pair;
    auto client_stream = client_ctx->open(pair.fds[0], alpn);
    auto& client = *client_stream;
    auto server_stream = server_ctx->open(pair.fds[1]);
    auto& server = *server_stream;
    auto [c, s] = handshake(client, server);
    REQUIRE(c == tls_stream::status::done);
    REQUIRE(s == tls_stream::status::done);
    CHECK(client.alpn() == alpn);
    CHECK(server.alpn() == alpn);
    size_t moved = 0;
    REQUIRE(client.write("GET / HTTP/1.1\r\n", 16, moved) == tls_stream::status::done);
    CHECK(moved == 16);
    CHECK(read_all(server) == "GET / HTTP/1.1\r\n");
    REQUIRE(server.write("HTTP/1.1 200 OK\r\n", 17, moved) == tls_stream::status::done);
    CHECK(read_all(client) == "HTTP/1.1 200 OK\r\n");
    client.close_notify();
    char byte;
    CHECK(server.read(&byte, 1, moved) == tls_stream::status::closed);
  }
}

TEST_CASE("tls: a client offering no protocol the server speaks goes on without ALPN") {
  test_ca mesh("mesh-alpn");
  auto server_ctx = mesh.context(tls_role::server, "ingress");
  auto client_ctx = mesh.context(tls_role::client, "sidecar");
  socket_pair pair;
  auto client_stream = client_ctx->open(pair.fds[0], "spdy/3");
  auto& client = *client_stream;
  auto server_stream = server_ctx->open(pair.fds[1]);
  auto& server = *server_stream;
  auto [c, s] = handshake(client, server);
  CHECK(c == tls_stream::status::done);
  CHECK(s == tls_stream::status::done);
  CHECK(server.alpn().empty());
}

TEST_CASE("tls: a certificate of another CA is refused, by the server and by the client") {
  test_ca mesh("mesh-ca"), foreign("foreign-ca");
  SECTION("a client of a foreign CA (that trusts the server)") {
    auto server_ctx = mesh.context(tls_role::server, "ingress");
    auto [cert, key] = foreign.issue("intruder");
    std::string error;
    auto client_ctx = tls_context::create(tls_role::client, cert, key, mesh.ca_path(), error);
    REQUIRE(client_ctx);
    socket_pair pair;
    auto client_stream = client_ctx->open(pair.fds[0], "h2");
    auto& client = *client_stream;
    auto server_stream = server_ctx->open(pair.fds[1]);
    auto& server = *server_stream;
    auto [c, s] = handshake(client, server);
    CHECK(s == tls_stream::status::failed);
    INFO(server.error());
    CHECK(server.error().find("certificate verify failed") != std::string::npos);
    // TLS 1.3: the client is done before the server checks it, and learns by the alert.
    char byte;
    size_t moved = 0;
    CHECK((c == tls_stream::status::failed ||
           client.read(&byte, 1, moved) == tls_stream::status::failed));
  }
  SECTION("a server of a foreign CA") {
    auto server_ctx = foreign.context(tls_role::server, "impostor");
    auto client_ctx = mesh.context(tls_role::client, "sidecar");
    socket_pair pair;
    auto client_stream = client_ctx->open(pair.fds[0], "h2");
    auto& client = *client_stream;
    auto server_stream = server_ctx->open(pair.fds[1]);
    auto& server = *server_stream;
    auto [c, s] = handshake(client, server);
    CHECK(c == tls_stream::status::failed);
    CHECK(client.error().find("certificate verify failed") != std::string::npos);
  }
}

TEST_CASE("tls: a context whose files do not load says which and why") {
  test_ca mesh("mesh-files");
  auto [cert, key] = mesh.issue("sidecar");
  std::string error;
  CHECK_FALSE(
      tls_context::create(tls_role::client, "/nonexistent.pem", key, mesh.ca_path(), error));
  CHECK(error.find("cannot load the certificate /nonexistent.pem") != std::string::npos);
  CHECK_FALSE(tls_context::create(tls_role::server, cert, cert, mesh.ca_path(), error));
  CHECK(error.find("cannot load the key") != std::string::npos);
  CHECK(tls_context::create(tls_role::server, cert, key, mesh.ca_path(), error));
}
