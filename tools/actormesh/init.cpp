#include "init.h"

#include <sys/wait.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "net/interception_rules.h"

namespace am::tools {

namespace {

constexpr const char* init_usage = R"(usage: actormesh init [OPTIONS]

Redirects this network namespace's TCP to the sidecar (iptables, nat table, chains
ACTORMESH_*): the application's outbound connections to the transparent listener
(sidecar.transparent.port), inbound connections to the listed application ports to the
inbound listener (with sidecar.transparent.inbound). Needs NET_ADMIN (root, or an init
container with that capability). Running it again re-applies the same rules.

  --proxy-uid UID               the sidecar's user: its connections are never redirected
  --proxy-gid GID               the sidecar's group (either this or --proxy-uid is required)
  --transparent-port N          where outbound connections go (default 15002)
  --inbound-port N              where inbound connections go (default 15006)
  --inbound-ports P,P|*         application ports to intercept inbound (default: none)
  --exclude-inbound-ports P,P   with *, ports left alone (ssh, health checks)
  --include-cidrs C,C           redirect only these outbound destinations (default: all)
  --exclude-cidrs C,C           never redirect these (127.0.0.0/8 and ::1 never are)
  --exclude-ports P,P           never redirect outbound connections to these ports
  --ipv6 auto|on|off            ip6tables too (auto: where ip6tables-restore exists)
  --dry-run                     print the iptables-restore input, change nothing
  --cleanup                     remove exactly what init added, and nothing else
)";

int usage_error(const std::string& message) {
  std::fprintf(stderr, "actormesh init: %s\n(see actormesh init --help)\n", message.c_str());
  return 2;
}

bool parse_number(std::string_view text, uint64_t max, uint64_t& out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return !text.empty() && ec == std::errc{} && end == text.data() + text.size() && out <= max;
}

std::vector<std::string> split(std::string_view text, char separator = ',') {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= text.size()) {
    auto comma = text.find(separator, at);
    auto item =
        text.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at);
    if (!item.empty()) {
      out.emplace_back(item);
    }
    if (comma == std::string_view::npos) {
      break;
    }
    at = comma + 1;
  }
  return out;
}

bool parse_ports(std::string_view text, std::vector<uint16_t>& out) {
  for (const auto& item : split(text)) {
    uint64_t v = 0;
    if (!parse_number(item, 65535, v) || v == 0) {
      return false;
    }
    out.push_back(static_cast<uint16_t>(v));
  }
  return true;
}

// The full path of `tool` in PATH (or the sbin directories, which a non-login root shell
// may lack), or empty.
std::string find_tool(const std::string& tool) {
  const char* env = std::getenv("PATH");
  std::string path = env != nullptr ? env : "";
  for (const auto& dir : split(path + ":/usr/sbin:/sbin", ':')) {
    auto candidate = dir + "/" + tool;
    if (access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return {};
}

// Runs `command` (through the shell), feeding it `input` when not null (its output goes to
// ours) or reading its output, stderr included, into `output`. Returns the exit status.
int run(const std::string& command, const std::string* input, std::string& output) {
  FILE* p = popen((command + " 2>&1").c_str(), input != nullptr ? "w" : "r");
  if (p == nullptr) {
    output = "cannot run " + command;
    return -1;
  }
  if (input != nullptr) {
    std::fwrite(input->data(), 1, input->size(), p);
  } else {
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) {
      output.append(buf, n);
    }
  }
  int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

struct family_tools {
  net::ip_family family;
  std::string save;
  std::string restore;
  const char* name;
};

}  // namespace

int run_init(int argc, char** argv) {
  net::interception_options o;
  bool dry_run = false;
  bool cleanup = false;
  std::string ipv6 = "auto";
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(init_usage, stdout);
      return 0;
    }
    if (flag == "--dry-run") {
      dry_run = true;
      continue;
    }
    if (flag == "--cleanup") {
      cleanup = true;
      continue;
    }
    if (i + 1 >= argc) {
      return usage_error("missing value for " + flag);
    }
    std::string value = argv[++i];
    uint64_t n = 0;
    bool ok = true;
    if (flag == "--proxy-uid" && (ok = parse_number(value, UINT32_MAX, n))) {
      o.proxy_uid = static_cast<uint32_t>(n);
    } else if (flag == "--proxy-gid" && (ok = parse_number(value, UINT32_MAX, n))) {
      o.proxy_gid = static_cast<uint32_t>(n);
    } else if (flag == "--transparent-port" && (ok = parse_number(value, 65535, n) && n > 0)) {
      o.transparent_port = static_cast<uint16_t>(n);
    } else if (flag == "--inbound-port" && (ok = parse_number(value, 65535, n) && n > 0)) {
      o.inbound_port = static_cast<uint16_t>(n);
    } else if (flag == "--inbound-ports") {
      o.all_inbound = value == "*";
      ok = o.all_inbound || parse_ports(value, o.inbound_ports);
    } else if (flag == "--exclude-inbound-ports") {
      ok = parse_ports(value, o.exclude_inbound_ports);
    } else if (flag == "--exclude-ports") {
      ok = parse_ports(value, o.exclude_ports);
    } else if (flag == "--include-cidrs") {
      o.include_cidrs = split(value);
    } else if (flag == "--exclude-cidrs") {
      o.exclude_cidrs = split(value);
    } else if (flag == "--ipv6" && (ok = value == "auto" || value == "on" || value == "off")) {
      ipv6 = value;
    } else if (ok) {
      return usage_error("unknown option " + flag);
    }
    if (!ok) {
      return usage_error("bad value for " + flag + ": '" + value + "'");
    }
  }
  if (!cleanup) {
    if (auto error = net::validate(o); !error.empty()) {
      return usage_error(error);
    }
  }
  std::vector<family_tools> families;
  family_tools v4{net::ip_family::v4, find_tool("iptables-save"), find_tool("iptables-restore"),
                  "iptables"};
  if (v4.save.empty() || v4.restore.empty()) {
    std::fprintf(stderr,
                 "actormesh init: iptables-save and iptables-restore are needed (Debian: apt-get "
                 "install iptables); nothing was changed\n");
    return 1;
  }
  families.push_back(v4);
  family_tools v6{net::ip_family::v6, find_tool("ip6tables-save"), find_tool("ip6tables-restore"),
                  "ip6tables"};
  bool have_v6 = !v6.save.empty() && !v6.restore.empty();
  if (ipv6 == "on" && !have_v6) {
    std::fprintf(stderr,
                 "actormesh init: --ipv6 on, but ip6tables-restore is missing; nothing "
                 "was changed\n");
    return 1;
  }
  if (ipv6 != "off" && have_v6) {
    families.push_back(v6);
  }
  // Read every family's state before changing any: a missing privilege or table fails here,
  // with nothing applied.
  std::vector<std::string> inputs;
  for (const auto& f : families) {
    std::string saved;
    if (run(f.save + " -t nat", nullptr, saved) != 0) {
      std::fprintf(stderr,
                   "actormesh init: %s -t nat failed (init needs NET_ADMIN: run it as root or "
                   "give the container that capability); nothing was changed:\n%s",
                   f.save.c_str(), saved.c_str());
      return 1;
    }
    auto state = net::parse_saved_nat(saved);
    inputs.push_back(cleanup ? net::cleanup_rules(state) : net::install_rules(o, f.family, state));
  }
  for (size_t i = 0; i < families.size(); ++i) {
    const auto& f = families[i];
    if (dry_run) {
      std::printf("# %s-restore --noflush\n%s", f.name,
                  inputs[i].empty() ? "# (nothing of actormesh's to remove)\n" : inputs[i].c_str());
      continue;
    }
    if (inputs[i].empty()) {
      continue;
    }
    std::string output;
    if (run(f.restore + " --noflush", &inputs[i], output) != 0) {
      // iptables-restore applies a table in one transaction: this family is as it was.
      std::fprintf(stderr,
                   "actormesh init: %s --noflush refused the rules (its error above)%s; they "
                   "were:\n%s",
                   f.restore.c_str(), i > 0 ? "; the earlier families were applied" : "",
                   inputs[i].c_str());
      return 1;
    }
  }
  if (!dry_run) {
    std::fprintf(stderr, "actormesh init: %s (%s)\n",
                 cleanup ? "interception removed" : "interception set up",
                 families.size() > 1 ? "iptables and ip6tables" : "iptables");
  }
  return 0;
}

}  // namespace am::tools
