// actormesh: one binary for every node role. See --help. Built twice: `actormesh` (every
// role and feature) and `actormesh-sidecar` (ACTORMESH_LEAN_SIDECAR: no gRPC, no libcurl, so
// a sidecar stays near 7 MB; it refuses control.api, etcd and Kubernetes).
#include <cstdio>
#include <cstring>
#include <string>

#include <fstream>
#include <sstream>

#include "actors/node.h"
#ifndef ACTORMESH_LEAN_SIDECAR
#include "actors/external_sources.h"
#include "federation/gateway.h"
#endif
#include "config/load.h"
#include "demo_config.h"
#include "demo_upstreams.h"
#include "init.h"

namespace {

constexpr const char* usage = R"(actormesh - a service mesh node built on the C++ Actor Framework

usage:
  actormesh --config FILE       run a node with the roles FILE names
  actormesh demo [OPTIONS]      run the embedded default mesh: sidecar, discovery and
                                commander roles, plus the built-in echo service
                                (v1 and v2); then try
                                  curl -x http://127.0.0.1:15001 http://echo/hello
  actormesh validate FILE       check a node file; print every error and exit 1 if any
  actormesh init [OPTIONS]      redirect this network namespace's TCP to the sidecar
                                (transparent mode; see actormesh init --help)
  actormesh --help | --version

demo options:
  --outbound-port N             explicit-proxy listener (default 15001)
  --admin-port N                admin listener (default 15000)
  --upstream-port-base N        first port of the built-in echo endpoints (default 18081)
  --access-log off|stdout|FILE  where the access log goes (default stdout)

Signals: SIGTERM or SIGINT (or POST /quitquitquit on the admin port) stop accepting,
let in-flight requests finish up to sidecar.drain_timeout, and exit 0.
)";

am::actors::node_launch launch(std::string text, std::string file) {
  am::actors::node_launch l;
  l.text = std::move(text);
  l.file = std::move(file);
#ifdef ACTORMESH_LEAN_SIDECAR
  l.executable = "actormesh-sidecar";
#else
  l.control_plane = am::actors::start_control_plane_services;
  l.federation = am::federation::start_gateway;
#endif
  return l;
}

int fail(const std::string& message) {
  std::fprintf(stderr, "actormesh: %s\n(see actormesh --help)\n", message.c_str());
  return 2;
}

bool parse_port(const char* text, uint16_t& out) {
  char* end = nullptr;
  auto v = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0' || v == 0 || v > 65535) {
    return false;
  }
  out = static_cast<uint16_t>(v);
  return true;
}

int run_demo(int argc, char** argv) {
  auto parsed = am::config::parse_node(am::tools::demo_config_yaml);
  if (!parsed.ok()) {
    return fail("the embedded demo config is invalid:\n" + parsed.describe("demo.yaml"));
  }
  auto node = *parsed.value;
  for (int i = 2; i < argc; ++i) {
    std::string flag = argv[i];
    if (i + 1 >= argc) {
      return fail("missing value for " + flag);
    }
    const char* value = argv[++i];
    uint16_t port = 0;
    if (flag == "--outbound-port" && parse_port(value, port)) {
      node.sidecar.outbound.port = port;
    } else if (flag == "--admin-port" && parse_port(value, port)) {
      node.sidecar.admin.port = port;
    } else if (flag == "--upstream-port-base" && parse_port(value, port)) {
      for (auto& [service, endpoints] : node.inline_endpoints) {
        for (auto& ep : endpoints) {
          ep.port = port++;
        }
      }
    } else if (flag == "--access-log") {
      node.sidecar.access_log.enabled = std::strcmp(value, "off") != 0;
      node.sidecar.access_log.path = value;
    } else {
      return fail("bad demo option " + flag + " " + value);
    }
  }
  am::tools::demo_upstreams upstreams;
  std::string error;
  if (!upstreams.start(node, error)) {
    std::fprintf(stderr, "actormesh: %s\n", error.c_str());
    return 1;
  }
  return am::actors::run_node(node, launch(am::tools::demo_config_yaml, {}));
}

int run_file(const std::string& path, bool validate_only) {
  auto parsed = am::config::load_node_file(path);
  if (!parsed.ok()) {
    std::fprintf(stderr, "actormesh: invalid config, nothing started:\n%s",
                 parsed.describe(path).c_str());
    return 1;
  }
  if (validate_only) {
    std::printf("%s: ok\n", path.c_str());
    return 0;
  }
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return am::actors::run_node(*parsed.value, launch(text.str(), path));
}

}  // namespace

int main(int argc, char** argv) {
  am::actors::block_shutdown_signals();
  if (argc < 2) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string first = argv[1];
  if (first == "--help" || first == "-h" || first == "help") {
    std::fputs(usage, stdout);
    return 0;
  }
  if (first == "--version") {
    std::puts("actormesh 0.1.0");
    return 0;
  }
  if (first == "demo") {
    return run_demo(argc, argv);
  }
  if (first == "init") {
    return am::tools::run_init(argc, argv);
  }
  if ((first == "--config" || first == "validate") && argc == 3) {
    return run_file(argv[2], first == "validate");
  }
  if (first.rfind("--config=", 0) == 0 && argc == 2) {
    return run_file(first.substr(9), false);
  }
  return fail("unknown arguments");
}
