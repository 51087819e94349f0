// The iptables rules of transparent mode (`actormesh init`), as text for iptables-restore:
// pure, so that what `init` applies, `--dry-run` prints and the tests check are one thing.
//
// Like Istio's and Linkerd's init containers, the rules live in chains of their own in the
// nat table, reached by one jump from OUTPUT (the application's connections out) and one from
// PREROUTING (connections in). The sidecar's own connections are told by their owner (uid or
// gid) and never redirected, so the proxy's upstream connections do not loop back to it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace am::net {

enum class ip_family { v4, v6 };

struct interception_options {
  std::optional<uint32_t> proxy_uid;  // connections owned by the sidecar: never redirected
  std::optional<uint32_t> proxy_gid;
  uint16_t transparent_port = 15002;  // where outbound connections are redirected
  uint16_t inbound_port = 15006;      // where inbound connections are redirected
  // Application ports whose inbound connections go to the sidecar; `all_inbound`: every
  // port but `exclude_inbound_ports`. Neither: inbound is left alone.
  std::vector<uint16_t> inbound_ports;
  bool all_inbound = false;
  std::vector<uint16_t> exclude_inbound_ports;
  // Outbound: destinations redirected (empty: all), and those left alone (taking precedence).
  std::vector<std::string> include_cidrs;
  std::vector<std::string> exclude_cidrs;
  std::vector<uint16_t> exclude_ports;
};

// Our chains and the jumps to them in what `iptables-save -t nat` printed.
struct interception_state {
  std::vector<std::string> chains;  // ours that exist
  int output_jumps = 0;             // "-A OUTPUT -p tcp -j ACTORMESH_OUTPUT" lines
  int prerouting_jumps = 0;         // "-A PREROUTING -p tcp -j ACTORMESH_INBOUND" lines
  bool installed() const { return !chains.empty() || output_jumps > 0 || prerouting_jumps > 0; }
};

interception_state parse_saved_nat(std::string_view iptables_save);

// Checks the options (an owner to exempt, CIDRs of the right shape); empty when valid.
std::string validate(const interception_options& o);

// The iptables-restore --noflush input that installs the rules for `family`: our chains are
// declared (so re-applying refills rather than duplicates them), and each jump is added only
// where `now` lacks it. CIDRs of the other family are skipped.
std::string install_rules(const interception_options& o, ip_family family,
                          const interception_state& now);

// The input that removes exactly what install_rules adds (every jump to our chains, then the
// chains); empty when nothing of ours is there.
std::string cleanup_rules(const interception_state& now);

}  // namespace am::net
