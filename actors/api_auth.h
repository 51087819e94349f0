// Who calls the control-plane API. With `control.api.tokens_file`, a call must carry
// `authorization: Bearer TOKEN` for a token of the file and is made as its identity; with
// `control.api.tls`, the TLS handshake already required a client certificate from the CA, and
// (without tokens) its common name is the identity. Each RPC checks before it does anything,
// so an unauthenticated call gets UNAUTHENTICATED with nothing applied or read.
#pragma once

#include <grpcpp/server_context.h>
#include <grpcpp/support/status.h>

#include <string>
#include <utility>
#include <vector>

#include "config/model.h"

namespace am::actors {

class api_authenticator {
 public:
  // Reads the tokens file ("IDENTITY TOKEN" lines, '#' comments); false with `error`.
  bool load(const config::api_listener& at, std::string& error);

  bool enabled() const { return !tokens_.empty() || tls_; }

  // OK with the caller's verified identity ("" while authentication is off), or
  // UNAUTHENTICATED saying why.
  grpc::Status check(const grpc::ServerContext& ctx, std::string& identity) const;

 private:
  std::vector<std::pair<std::string, std::string>> tokens_;  // token, identity
  bool tls_ = false;
};

}  // namespace am::actors
