#include "actors/api_auth.h"

#include <grpcpp/security/auth_context.h>

#include <fstream>
#include <sstream>

namespace am::actors {

namespace {

// Compares in time that depends on the lengths only, never on where the texts differ.
bool same_secret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) {
    return false;
  }
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

}  // namespace

bool api_authenticator::load(const config::api_listener& at, std::string& error) {
  tls_ = at.tls.enabled();
  tokens_.clear();
  if (at.tokens_file.empty()) {
    return true;
  }
  std::ifstream in{at.tokens_file};
  if (!in) {
    error = "control API: cannot read tokens_file " + at.tokens_file;
    return false;
  }
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream fields{line};
    std::string identity, token, extra;
    if (!(fields >> identity) || identity.front() == '#') {
      continue;
    }
    if (!(fields >> token) || (fields >> extra) || token.size() < 16) {
      error = "control API: " + at.tokens_file + ":" + std::to_string(number) +
              ": want \"IDENTITY TOKEN\" with a token of 16 characters or more";
      return false;
    }
    tokens_.emplace_back(std::move(token), std::move(identity));
  }
  if (tokens_.empty()) {
    error = "control API: " + at.tokens_file + " has no tokens (every call would be refused)";
    return false;
  }
  return true;
}

grpc::Status api_authenticator::check(const grpc::ServerContext& ctx, std::string& identity) const {
  identity.clear();
  if (!tokens_.empty()) {
    const auto& metadata = ctx.client_metadata();
    auto i = metadata.find("authorization");
    if (i == metadata.end()) {
      return {grpc::StatusCode::UNAUTHENTICATED,
              "this API needs a bearer token (authorization: Bearer TOKEN; meshctl --token-file)"};
    }
    std::string_view value{i->second.data(), i->second.size()};
    constexpr std::string_view scheme = "Bearer ";
    if (value.substr(0, scheme.size()) != scheme) {
      return {grpc::StatusCode::UNAUTHENTICATED, "authorization must be \"Bearer TOKEN\""};
    }
    value.remove_prefix(scheme.size());
    const std::string* found = nullptr;
    for (const auto& [token, who] : tokens_) {
      if (same_secret(value, token)) {  // every token compared: no timing hint of which
        found = &who;
      }
    }
    if (found == nullptr) {
      return {grpc::StatusCode::UNAUTHENTICATED, "unknown bearer token"};
    }
    identity = *found;
    return grpc::Status::OK;
  }
  if (tls_) {
    auto auth = ctx.auth_context();
    auto names =
        auth ? auth->FindPropertyValues("x509_common_name") : std::vector<grpc::string_ref>{};
    if (names.empty()) {
      return {grpc::StatusCode::UNAUTHENTICATED, "no verified client certificate"};
    }
    identity.assign(names.front().data(), names.front().size());
  }
  return grpc::Status::OK;
}

}  // namespace am::actors
