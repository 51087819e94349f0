// The iptables rules of `actormesh init`: the sidecar's own traffic and loopback exempt,
// exclusions before redirects, jumps added once, cleanup removing exactly what was added.
#include <catch2/catch.hpp>
#include <string>

#include "net/interception_rules.h"

using namespace am::net;

namespace {

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

size_t position(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n");
}

}  // namespace

TEST_CASE("install: the sidecar's own connections and loopback go out as they are, first") {
  interception_options o;
  o.proxy_uid = 1337;
  o.exclude_ports = {22};
  o.exclude_cidrs = {"10.1.0.0/16", "fd00::/8"};
  auto text = install_rules(o, ip_family::v4, {});
  auto owner = position(text, "-A ACTORMESH_OUTPUT -m owner --uid-owner 1337 -j RETURN");
  auto loopback = position(text, "-A ACTORMESH_OUTPUT -d 127.0.0.0/8 -j RETURN");
  auto port = position(text, "-A ACTORMESH_OUTPUT -p tcp --dport 22 -j RETURN");
  auto cidr = position(text, "-A ACTORMESH_OUTPUT -d 10.1.0.0/16 -j RETURN");
  auto redirect = position(text, "-A ACTORMESH_OUTPUT -p tcp -j ACTORMESH_REDIRECT");
  REQUIRE(owner != std::string::npos);
  REQUIRE(redirect != std::string::npos);
  CHECK(owner < loopback);
  CHECK(loopback < port);
  CHECK(port < cidr);
  CHECK(cidr < redirect);
  CHECK(text.find("fd00::/8") == std::string::npos);  // the other family's range
  CHECK(has_line(text, "-A ACTORMESH_REDIRECT -p tcp -j REDIRECT --to-ports 15002"));
  CHECK(has_line(text, "-A OUTPUT -p tcp -j ACTORMESH_OUTPUT"));
  CHECK(has_line(text, "-A PREROUTING -p tcp -j ACTORMESH_INBOUND"));
  CHECK(text.rfind("*nat\n", 0) == 0);
  CHECK(text.size() >= 7);
  CHECK(text.substr(text.size() - 7) == "COMMIT\n");
}

TEST_CASE("install: listed ranges only; ipv6 rules exempt ::1") {
  interception_options o;
  o.proxy_gid = 1337;
  o.include_cidrs = {"10.96.0.0/12", "fd00::/8"};
  auto v4 = install_rules(o, ip_family::v4, {});
  CHECK(has_line(v4, "-A ACTORMESH_OUTPUT -m owner --gid-owner 1337 -j RETURN"));
  CHECK(has_line(v4, "-A ACTORMESH_OUTPUT -d 10.96.0.0/12 -j ACTORMESH_REDIRECT"));
  CHECK_FALSE(has_line(v4, "-A ACTORMESH_OUTPUT -p tcp -j ACTORMESH_REDIRECT"));
  auto v6 = install_rules(o, ip_family::v6, {});
  CHECK(has_line(v6, "-A ACTORMESH_OUTPUT -d ::1/128 -j RETURN"));
  CHECK(has_line(v6, "-A ACTORMESH_OUTPUT -d fd00::/8 -j ACTORMESH_REDIRECT"));
  CHECK(v6.find("10.96.0.0/12") == std::string::npos);
}

TEST_CASE("install: inbound ports, or all but the excluded and the sidecar's own") {
  interception_options o;
  o.proxy_uid = 0;
  o.inbound_ports = {8080, 9090};
  auto listed = install_rules(o, ip_family::v4, {});
  CHECK(has_line(listed, "-A ACTORMESH_INBOUND -p tcp --dport 15006 -j RETURN"));
  CHECK(has_line(listed, "-A ACTORMESH_INBOUND -p tcp --dport 8080 -j ACTORMESH_IN_REDIRECT"));
  CHECK(has_line(listed, "-A ACTORMESH_INBOUND -p tcp --dport 9090 -j ACTORMESH_IN_REDIRECT"));
  CHECK(has_line(listed, "-A ACTORMESH_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006"));
  o.inbound_ports.clear();
  o.all_inbound = true;
  o.exclude_inbound_ports = {22};
  auto all = install_rules(o, ip_family::v4, {});
  auto own = position(all, "-A ACTORMESH_INBOUND -p tcp --dport 15006 -j RETURN");
  auto ssh = position(all, "-A ACTORMESH_INBOUND -p tcp --dport 22 -j RETURN");
  auto rest = position(all, "-A ACTORMESH_INBOUND -p tcp -j ACTORMESH_IN_REDIRECT");
  REQUIRE(rest != std::string::npos);
  CHECK(own < rest);
  CHECK(ssh < rest);
}

TEST_CASE("re-applying declares (refills) the chains and adds no second jump") {
  interception_options o;
  o.proxy_uid = 0;
  auto saved = parse_saved_nat(
      "*nat\n:PREROUTING ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n:ACTORMESH_OUTPUT - [0:0]\n"
      ":ACTORMESH_REDIRECT - [0:0]\n:ACTORMESH_INBOUND - [0:0]\n:ACTORMESH_IN_REDIRECT - [0:0]\n"
      ":OTHER_CHAIN - [0:0]\n-A PREROUTING -p tcp -j ACTORMESH_INBOUND\n"
      "-A OUTPUT -p tcp -j ACTORMESH_OUTPUT\n-A OUTPUT -p tcp -j OTHER_CHAIN\nCOMMIT\n");
  CHECK(saved.chains.size() == 4);
  CHECK(saved.output_jumps == 1);
  CHECK(saved.prerouting_jumps == 1);
  auto text = install_rules(o, ip_family::v4, saved);
  CHECK(has_line(text, ":ACTORMESH_OUTPUT - [0:0]"));
  CHECK_FALSE(has_line(text, "-A OUTPUT -p tcp -j ACTORMESH_OUTPUT"));
  CHECK_FALSE(has_line(text, "-A PREROUTING -p tcp -j ACTORMESH_INBOUND"));
}

TEST_CASE("cleanup removes every jump to our chains, then the chains; nothing else") {
  auto saved = parse_saved_nat(
      ":OUTPUT ACCEPT [0:0]\n:ACTORMESH_OUTPUT - [0:0]\n:ACTORMESH_REDIRECT - [0:0]\n"
      ":KEEP_ME - [0:0]\n-A OUTPUT -p tcp -j ACTORMESH_OUTPUT\n"
      "-A OUTPUT -p tcp -j ACTORMESH_OUTPUT\n-A OUTPUT -j KEEP_ME\n");
  auto text = cleanup_rules(saved);
  CHECK(has_line(text, "-D OUTPUT -p tcp -j ACTORMESH_OUTPUT"));
  CHECK(text.find("-D OUTPUT -p tcp -j ACTORMESH_OUTPUT\n-D OUTPUT -p tcp -j ACTORMESH_OUTPUT") !=
        std::string::npos);
  CHECK(position(text, "-F ACTORMESH_OUTPUT") < position(text, "-X ACTORMESH_OUTPUT"));
  CHECK(has_line(text, "-X ACTORMESH_REDIRECT"));
  CHECK(text.find("KEEP_ME") == std::string::npos);
  CHECK(text.find("PREROUTING") == std::string::npos);
  CHECK(cleanup_rules(parse_saved_nat(":OUTPUT ACCEPT [0:0]\n-A OUTPUT -j KEEP_ME\n")).empty());
}

TEST_CASE("validation: an owner to exempt, CIDRs of either family") {
  interception_options o;
  CHECK(validate(o).find("--proxy-uid") != std::string::npos);
  o.proxy_uid = 1337;
  CHECK(validate(o).empty());
  o.include_cidrs = {"10.0.0.0/8", "fd00::/8", "192.168.1.1"};
  CHECK(validate(o).empty());
  o.exclude_cidrs = {"10.0.0.0/33"};
  CHECK(validate(o).find("10.0.0.0/33") != std::string::npos);
  o.exclude_cidrs = {"example.com"};
  CHECK_FALSE(validate(o).empty());
}
