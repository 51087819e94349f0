#include "net/interception_rules.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>

namespace am::net {

namespace {

constexpr std::string_view output_chain = "ACTORMESH_OUTPUT";
constexpr std::string_view redirect_chain = "ACTORMESH_REDIRECT";
constexpr std::string_view inbound_chain = "ACTORMESH_INBOUND";
constexpr std::string_view in_redirect_chain = "ACTORMESH_IN_REDIRECT";
constexpr std::string_view chains[] = {output_chain, redirect_chain, inbound_chain,
                                       in_redirect_chain};
constexpr std::string_view output_jump = "-A OUTPUT -p tcp -j ACTORMESH_OUTPUT";
constexpr std::string_view prerouting_jump = "-A PREROUTING -p tcp -j ACTORMESH_INBOUND";

// "10.0.0.0/8" or "fd00::/8" (a bare address is a host): which family, if it is one.
std::optional<ip_family> cidr_family(const std::string& cidr) {
  auto slash = cidr.find('/');
  auto ip = cidr.substr(0, slash);
  unsigned char buf[16];
  std::optional<ip_family> family;
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    family = ip_family::v4;
  } else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    family = ip_family::v6;
  } else {
    return std::nullopt;
  }
  if (slash != std::string::npos) {
    auto bits = std::string_view{cidr}.substr(slash + 1);
    unsigned v = 0;
    auto [end, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), v);
    unsigned max = family == ip_family::v4 ? 32 : 128;
    if (bits.empty() || ec != std::errc{} || end != bits.data() + bits.size() || v > max) {
      return std::nullopt;
    }
  }
  return family;
}

void rule(std::string& out, std::string_view chain, const std::string& spec) {
  out += "-A ";
  out += chain;
  out += ' ';
  out += spec;
  out += '\n';
}

}  // namespace

interception_state parse_saved_nat(std::string_view save) {
  interception_state s;
  size_t at = 0;
  while (at < save.size()) {
    auto end = save.find('\n', at);
    auto line = save.substr(at, end == std::string_view::npos ? std::string_view::npos : end - at);
    at = end == std::string_view::npos ? save.size() : end + 1;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) {
      line.remove_suffix(1);
    }
    if (line == output_jump) {
      ++s.output_jumps;
    } else if (line == prerouting_jump) {
      ++s.prerouting_jumps;
    } else if (line.size() > 1 && line[0] == ':') {
      auto name = line.substr(1, line.find(' ') - 1);
      if (std::find(std::begin(chains), std::end(chains), name) != std::end(chains)) {
        s.chains.emplace_back(name);
      }
    }
  }
  return s;
}

std::string validate(const interception_options& o) {
  if (!o.proxy_uid && !o.proxy_gid) {
    return "--proxy-uid or --proxy-gid is required: the sidecar's own connections must not be "
           "redirected back to it";
  }
  for (const auto* list : {&o.include_cidrs, &o.exclude_cidrs}) {
    for (const auto& c : *list) {
      if (!cidr_family(c)) {
        return "'" + c + "' is no address or CIDR (such as 10.0.0.0/8 or fd00::/8)";
      }
    }
  }
  if (o.transparent_port == 0 || o.inbound_port == 0) {
    return "the sidecar's ports must be 1..65535";
  }
  return {};
}

std::string install_rules(const interception_options& o, ip_family family,
                          const interception_state& now) {
  auto port = [](uint16_t p) { return std::to_string(p); };
  std::string out = "*nat\n";
  for (auto c : chains) {
    out += ':';
    out += c;
    out += " - [0:0]\n";
  }
  rule(out, redirect_chain, "-p tcp -j REDIRECT --to-ports " + port(o.transparent_port));
  rule(out, in_redirect_chain, "-p tcp -j REDIRECT --to-ports " + port(o.inbound_port));
  // Inbound: the sidecar's own inbound port is never redirected to itself.
  rule(out, inbound_chain, "-p tcp --dport " + port(o.inbound_port) + " -j RETURN");
  for (auto p : o.exclude_inbound_ports) {
    rule(out, inbound_chain, "-p tcp --dport " + port(p) + " -j RETURN");
  }
  if (o.all_inbound) {
    rule(out, inbound_chain, "-p tcp -j " + std::string{in_redirect_chain});
  } else {
    for (auto p : o.inbound_ports) {
      rule(out, inbound_chain,
           "-p tcp --dport " + port(p) + " -j " + std::string{in_redirect_chain});
    }
  }
  // Outbound: the sidecar's own connections, loopback and the exclusions go out as they are.
  if (o.proxy_uid) {
    rule(out, output_chain, "-m owner --uid-owner " + std::to_string(*o.proxy_uid) + " -j RETURN");
  }
  if (o.proxy_gid) {
    rule(out, output_chain, "-m owner --gid-owner " + std::to_string(*o.proxy_gid) + " -j RETURN");
  }
  rule(out, output_chain,
       std::string{"-d "} + (family == ip_family::v4 ? "127.0.0.0/8" : "::1/128") + " -j RETURN");
  for (auto p : o.exclude_ports) {
    rule(out, output_chain, "-p tcp --dport " + port(p) + " -j RETURN");
  }
  for (const auto& c : o.exclude_cidrs) {
    if (cidr_family(c) == family) {
      rule(out, output_chain, "-d " + c + " -j RETURN");
    }
  }
  // Listed ranges only (those of the other family redirect nothing here), or everything.
  for (const auto& c : o.include_cidrs) {
    if (cidr_family(c) == family) {
      rule(out, output_chain, "-d " + c + " -j " + std::string{redirect_chain});
    }
  }
  if (o.include_cidrs.empty()) {
    rule(out, output_chain, "-p tcp -j " + std::string{redirect_chain});
  }
  if (now.output_jumps == 0) {
    out += output_jump;
    out += '\n';
  }
  if (now.prerouting_jumps == 0) {
    out += prerouting_jump;
    out += '\n';
  }
  out += "COMMIT\n";
  return out;
}

std::string cleanup_rules(const interception_state& now) {
  if (!now.installed()) {
    return {};
  }
  std::string out = "*nat\n";
  for (int i = 0; i < now.output_jumps; ++i) {
    out += "-D OUTPUT -p tcp -j ACTORMESH_OUTPUT\n";
  }
  for (int i = 0; i < now.prerouting_jumps; ++i) {
    out += "-D PREROUTING -p tcp -j ACTORMESH_INBOUND\n";
  }
  // Flushed first: a chain is removed only once no rule jumps to it.
  for (const auto& c : now.chains) {
    out += "-F " + c + "\n";
  }
  for (const auto& c : now.chains) {
    out += "-X " + c + "\n";
  }
  out += "COMMIT\n";
  return out;
}

}  // namespace am::net
