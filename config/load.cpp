#include "config/load.h"

#include "config/load_policy.h"
#include "config/syntax.h"
#include "config/text_file.h"
#include "config/yaml_reader.h"

#include <arpa/inet.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>

namespace am::config {

using detail::reader;

namespace {

endpoint read_endpoint(const YAML::Node& n, const std::string& path,
                       std::vector<config_error>& errors) {
  endpoint ep;
  reader r{n, path, errors};
  if (!r.is_map()) {
    return ep;
  }
  r.read_ipv4("address", ep.address);
  r.read_uint("port", ep.port, 1, 65535);
  r.read_uint("weight", ep.weight, 1, 10000);
  if (ep.address.empty() && !r.get("address")) {
    r.fail(r.child_path("address"), "is required");
  }
  if (ep.port == 0 && !r.get("port")) {
    r.fail(r.child_path("port"), "is required");
  }
  auto labels = r.get("labels");
  if (labels) {
    if (!labels.IsMap()) {
      r.fail(r.child_path("labels"), "must be a mapping of strings");
    } else {
      for (const auto& kv : labels) {
        if (!kv.second.IsScalar()) {
          r.fail(r.child_path("labels") + "." + kv.first.Scalar(), "must be a string");
        } else {
          ep.labels[kv.first.Scalar()] = kv.second.Scalar();
        }
      }
    }
  }
  r.reject_unknown_keys();
  return ep;
}

std::vector<endpoint> read_endpoint_list(const YAML::Node& n, const std::string& path,
                                         std::vector<config_error>& errors) {
  std::vector<endpoint> out;
  if (!n) {
    return out;
  }
  if (!n.IsSequence()) {
    errors.push_back({path, "must be a list"});
    return out;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    out.push_back(read_endpoint(n[i], path + "[" + std::to_string(i) + "]", errors));
  }
  return out;
}

// Calls `fn(name, node, path)` for each entry of the `services` mapping.
void for_each_service(
    reader& parent,
    const std::function<void(const std::string&, const YAML::Node&, const std::string&)>& fn) {
  auto services = parent.get("services");
  if (!services) {
    return;
  }
  auto path = parent.child_path("services");
  if (!services.IsMap()) {
    parent.fail(path, "must be a mapping of service names");
    return;
  }
  for (const auto& kv : services) {
    auto name = kv.first.Scalar();
    auto spath = path + "." + name;
    if (!valid_service_name(name)) {
      parent.fail(spath, "service names are 1..63 letters, digits, '-', '.' or '_'");
      continue;
    }
    fn(name, kv.second, spath);
  }
}

}  // namespace

bool parse_duration(const std::string& text, millis& out) {
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc{} || end == text.data()) {
    return false;
  }
  std::string unit{end, text.data() + text.size()};
  if (unit == "ms") {
    out = millis{v};
  } else if (unit == "s") {
    out = millis{v * 1000};
  } else if (unit == "m") {
    out = millis{v * 60'000};
  } else {
    return false;
  }
  return true;
}

namespace {

void read_listener_protocol(reader& r, listener& out) {
  std::string protocol;
  r.read_string("protocol", protocol);
  if (protocol == "http1") {
    out.protocol = listener_protocol::http1;
  } else if (protocol == "http2") {
    out.protocol = listener_protocol::http2;
  } else if (!protocol.empty() && protocol != "auto") {
    r.fail(r.child_path("protocol"), "must be auto, http1 or http2");
  }
}

void read_listener(reader r, listener& out) {
  if (!r.is_map()) {
    return;
  }
  r.read_ipv4("address", out.address);
  r.read_uint("port", out.port, 0, 65535);
  read_listener_protocol(r, out);
  r.reject_unknown_keys();
}

// `control_plane: {address, port}`: where a sidecar attaches; a name is resolved at connect.
void read_control_plane(reader r, listener& out) {
  if (!r.is_map()) {
    return;
  }
  r.read_host("address", out.address);
  r.read_uint("port", out.port, 0, 65535);
  r.reject_unknown_keys();
}

// `{cert, key, ca}`: all three PEM files, each readable.
void read_tls(reader r, tls_files& out) {
  if (!r.is_map() || !r.exists()) {
    return;
  }
  for (auto [key, field] : {std::pair{"cert", &out.cert}, {"key", &out.key}, {"ca", &out.ca}}) {
    r.read_string(key, *field);
    if (field->empty()) {
      r.fail(r.child_path(key), "is required (a PEM file)");
    } else if (!std::ifstream{*field}) {
      r.fail(r.child_path(key), "cannot read " + *field);
    }
  }
  r.reject_unknown_keys();
}

// `federation: {cluster, listen, ingress, peers: [{name, address, port, priority, weight}],
// heartbeat, peer_timeout, stale_after, tls}`. Its `tls` is the node's: one actor system has one
// certificate for all its middleman links.
void read_federation(reader r, node& n) {
  if (!r.is_map() || !r.exists()) {
    return;
  }
  auto& f = n.federation;
  r.read_string("cluster", f.cluster);
  if (!valid_service_name(f.cluster)) {
    r.fail(r.child_path("cluster"), "is required: 1..63 letters, digits, '-', '.' or '_'");
  }
  read_listener(r.child("listen"), f.listen);
  if (f.listen.port == 0) {
    r.fail(r.child_path("listen"), "needs a port: the gateway's, which peers connect to");
  }
  read_listener(r.child("ingress"), f.ingress);
  auto peers = r.get("peers");
  if (peers && !peers.IsSequence()) {
    r.fail(r.child_path("peers"), "must be a list of {name, address, port}");
  } else if (peers) {
    std::set<std::string> names{f.cluster};
    for (size_t i = 0; i < peers.size(); ++i) {
      reader p{peers[i], r.child_path("peers") + "[" + std::to_string(i) + "]", r.errors()};
      federation_peer peer;
      if (!p.is_map()) {
        continue;
      }
      p.read_string("name", peer.name);
      p.read_ipv4("address", peer.address);
      p.read_uint("port", peer.port, 1, 65535);
      peer.priority = static_cast<unsigned>(i);
      p.read_uint("priority", peer.priority, 0, 100);
      p.read_uint("weight", peer.weight, 1, 10000);
      if (!valid_service_name(peer.name)) {
        p.fail(p.child_path("name"), "is required: the peer's cluster name");
      } else if (!names.insert(peer.name).second) {
        p.fail(p.child_path("name"), "'" + peer.name + "' is this cluster or another peer");
      }
      if (peer.port == 0) {
        p.fail(p.child_path("port"), "is required: the port of the peer's gateway");
      }
      p.reject_unknown_keys();
      f.peers.push_back(std::move(peer));
    }
  }
  r.read_duration("heartbeat", f.heartbeat, millis{10});
  r.read_duration("peer_timeout", f.peer_timeout, millis{50});
  if (f.peer_timeout <= f.heartbeat) {
    r.fail(r.child_path("peer_timeout"), "must be longer than heartbeat");
  }
  r.read_duration("stale_after", f.stale_after, millis{1});
  tls_files tls;
  read_tls(r.child("tls"), tls);
  if (tls.enabled() && n.tls.enabled() &&
      (tls.cert != n.tls.cert || tls.key != n.tls.key || tls.ca != n.tls.ca)) {
    r.fail(r.child_path("tls"), "differs from tls: one node has one certificate for its links");
  } else if (tls.enabled()) {
    n.tls = tls;
  }
  r.reject_unknown_keys();
}

void read_api_listener(reader r, api_listener& out) {
  if (!r.is_map()) {
    return;
  }
  r.read_ipv4("address", out.address);
  r.read_uint("port", out.port, 0, 65535);
  r.read_string("tokens_file", out.tokens_file);
  if (!out.tokens_file.empty() && !std::ifstream{out.tokens_file}) {
    r.fail(r.child_path("tokens_file"), "cannot read " + out.tokens_file);
  }
  read_tls(r.child("tls"), out.tls);
  r.reject_unknown_keys();
}

void read_inbound(reader r, inbound_listener& out) {
  if (!r.is_map()) {
    return;
  }
  r.read_ipv4("address", out.address);
  r.read_uint("port", out.port, 0, 65535);
  read_listener_protocol(r, out);
  r.read_ipv4("app_address", out.app_address);
  r.read_uint("app_port", out.app_port, 1, 65535);
  if (out.port != 0 && out.app_port == 0) {
    r.fail(r.child_path("app_port"), "is required when the inbound listener is enabled");
  }
  r.reject_unknown_keys();
}

// `sidecar.locality: {cluster, region, zone, node}`; what it leaves empty comes from the
// environment.
void read_locality(reader r, location& l) {
  if (r.is_map()) {
    r.read_string("cluster", l.cluster);
    r.read_string("region", l.region);
    r.read_string("zone", l.zone);
    r.read_string("node", l.node);
    r.reject_unknown_keys();
  }
  auto from_env = [](std::string& field, const char* name) {
    const char* v = std::getenv(name);
    if (field.empty() && v != nullptr) {
      field = v;
    }
  };
  from_env(l.cluster, "ACTORMESH_CLUSTER");
  from_env(l.region, "ACTORMESH_REGION");
  from_env(l.zone, "ACTORMESH_ZONE");
  from_env(l.node, "ACTORMESH_NODE");
}

// `sidecar.transparent: {address, port, inbound, detect_timeout, opaque_ports}`.
void read_transparent(reader r, transparent_settings& t) {
  r.read_ipv4("address", t.address);
  r.read_ipv6("address6", t.address6);
  r.read_uint("port", t.port, 1, 65535);
  r.read_bool("inbound", t.inbound);
  r.read_duration("detect_timeout", t.detect_timeout, millis{1});
  r.read_port_list("opaque_ports", t.opaque_ports);
  r.reject_unknown_keys();
}

void read_sidecar(reader r, sidecar_settings& s) {
  read_locality(r.child("locality"), s.locality);
  if (!r.is_map()) {
    return;
  }
  r.read_string("service_name", s.service_name);
  r.read_uint("workers", s.workers, 0, 64);
  read_listener(r.child("outbound"), s.outbound);
  read_inbound(r.child("inbound"), s.inbound);
  read_listener(r.child("admin"), s.admin);
  if (auto t = r.child("transparent"); t.is_map() && t.exists()) {
    read_transparent(t, s.transparent);
    if (s.transparent.inbound && s.inbound.port == 0) {
      t.fail(t.child_path("inbound"), "needs the inbound listener (sidecar.inbound.port)");
    }
  }
  std::string unknown;
  r.read_string("unknown_hosts", unknown);
  if (unknown == "reject") {
    s.unknown_hosts = unknown_host_policy::reject;
  } else if (!unknown.empty() && unknown != "passthrough") {
    r.fail(r.child_path("unknown_hosts"), "must be passthrough or reject");
  }
  r.read_duration("drain_timeout", s.drain_timeout, millis{0});
  r.read_duration("header_timeout", s.header_timeout, millis{10});
  r.read_duration("idle_timeout", s.idle_timeout, millis{10});
  r.read_uint("max_header_bytes", s.max_header_bytes, 1024, 1024 * 1024);
  r.read_uint("max_connections", s.max_connections, 1, 1000000);
  r.read_uint("max_hops", s.max_hops, 2, 255);
  r.read_uint("h2_max_empty_frames", s.h2_max_empty_frames, 0, 1000000);
  r.read_uint("h2_free_list_bytes", s.h2_free_list_bytes, 0, uint64_t{1} << 30);
  if (auto admin = r.child("admin_limits"); admin.is_map()) {
    admin.read_uint("max_connections", s.admin_limits.max_connections, 1, 100000);
    admin.read_duration("timeout", s.admin_limits.timeout, millis{10});
    admin.reject_unknown_keys();
  }
  r.read_string_list("uses", s.uses);
  r.read_bool("generate_request_id", s.generate_request_id);
  r.read_duration("global_weights_max_age", s.global_weights_max_age, millis{100});
  auto log = r.child("access_log");
  if (log.is_map()) {
    log.read_bool("enabled", s.access_log.enabled);
    log.read_string("path", s.access_log.path);
    log.read_uint("max_queue_bytes", s.access_log.max_queue_bytes, 4096, uint64_t{1} << 32);
    log.reject_unknown_keys();
  }
  // `tracing: {collector: {address, port}, max_queue_spans}`
  auto tracing = r.child("tracing");
  if (tracing.is_map()) {
    auto collector = tracing.child("collector");
    if (collector.is_map()) {
      collector.read_ipv4("address", s.tracing.address);
      collector.read_uint("port", s.tracing.port, 1, 65535);
      collector.reject_unknown_keys();
    }
    tracing.read_uint("max_queue_spans", s.tracing.max_queue_spans, 1, 10'000'000);
    tracing.reject_unknown_keys();
  }
  r.reject_unknown_keys();
}

void read_roles(reader& r, std::set<role>& roles) {
  auto n = r.get("roles");
  auto path = r.child_path("roles");
  if (!n) {
    r.fail(path, "is required (a list of sidecar, discovery, commander, global_lb)");
    return;
  }
  if (!n.IsSequence() || n.size() == 0) {
    r.fail(path, "must be a non-empty list of sidecar, discovery, commander, global_lb");
    return;
  }
  for (size_t i = 0; i < n.size(); ++i) {
    auto v = n[i].IsScalar() ? n[i].Scalar() : std::string{};
    if (v == "sidecar") {
      roles.insert(role::sidecar);
    } else if (v == "discovery") {
      roles.insert(role::discovery);
    } else if (v == "commander") {
      roles.insert(role::commander);
    } else if (v == "global_lb") {
      roles.insert(role::global_lb);
    } else {
      r.fail(path + "[" + std::to_string(i) + "]",
             "unknown role '" + v + "' (sidecar, discovery, commander, global_lb)");
    }
  }
}

void read_kubernetes(reader r, kubernetes_settings& out) {
  if (!r.is_map() || !r.exists()) {
    return;
  }
  r.read_string("api", out.api);
  r.read_string("token_file", out.token_file);
  r.read_string("ca_file", out.ca_file);
  r.read_string("namespace", out.namespace_);
  if (out.api.rfind("http://", 0) != 0 && out.api.rfind("https://", 0) != 0) {
    r.fail(r.child_path("api"), "must be an http:// or https:// URL of the API server");
  }
  r.reject_unknown_keys();
}

void read_etcd(reader r, etcd_source_settings& out) {
  if (!r.is_map() || !r.exists()) {
    return;
  }
  r.read_string("endpoints", out.endpoints);
  r.read_string("prefix", out.prefix);
  if (out.endpoints.find(':') == std::string::npos) {
    r.fail(r.child_path("endpoints"), "must be host:port of an etcd client URL");
  }
  if (out.prefix.empty() || out.prefix.back() != '/') {
    r.fail(r.child_path("prefix"), "must end with '/'");
  }
  r.reject_unknown_keys();
}

// `lb: round_robin | least_request | random | global`, or
// `lb: {consistent_hash: {header: NAME} | {cookie: NAME} | {source_ip: true}}`.
void read_lb(reader r, service& svc) {
  if (!r.exists()) {
    return;
  }
  static constexpr const char* choices =
      "must be round_robin, least_request, random, global or "
      "{consistent_hash: {header|cookie|source_ip}}";
  if (r.node().IsScalar()) {
    const auto& name = r.node().Scalar();
    if (name == "round_robin") {
      svc.lb = lb_policy::round_robin;
    } else if (name == "least_request") {
      svc.lb = lb_policy::least_request;
    } else if (name == "random") {
      svc.lb = lb_policy::random;
    } else if (name == "global") {
      svc.lb = lb_policy::global;
    } else {
      r.fail(r.path(), choices);
    }
    return;
  }
  if (!r.node().IsMap() || !r.get("consistent_hash")) {
    r.fail(r.path(), choices);
    return;
  }
  svc.lb = lb_policy::consistent_hash;
  auto hash = r.child("consistent_hash");
  if (!hash.node().IsMap() || hash.node().size() != 1) {
    hash.fail(hash.path(), "must name one key source: header, cookie or source_ip");
    return;
  }
  auto& key = svc.hash_key;
  if (hash.get("header")) {
    key.from = hash_key_spec::source::header;
    hash.read_string("header", key.name);
    std::transform(key.name.begin(), key.name.end(), key.name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  } else if (hash.get("cookie")) {
    key.from = hash_key_spec::source::cookie;
    hash.read_string("cookie", key.name);
  } else if (hash.get("source_ip")) {
    bool on = false;
    hash.read_bool("source_ip", on);
    if (!on) {
      hash.fail(hash.child_path("source_ip"), "must be true");
    }
    key.from = hash_key_spec::source::source_ip;
  }
  if (key.from != hash_key_spec::source::source_ip && key.name.empty()) {
    hash.fail(hash.path(), "the header or cookie name must not be empty");
  }
  hash.reject_unknown_keys();
  r.reject_unknown_keys();
}

void read_service(reader r, const std::string& name, node& out) {
  service svc;
  svc.name = name;
  if (!r.is_map()) {
    return;
  }
  r.read_duration("timeout", svc.timeout, millis{1});
  r.read_duration("stream_timeout", svc.stream_timeout, millis{0});
  read_lb(r.child("lb"), svc);
  auto eps = r.get("endpoints");
  if (eps) {
    std::vector<config_error> errors;
    out.inline_endpoints[name] = read_endpoint_list(eps, r.child_path("endpoints"), errors);
    for (auto& e : errors) {
      r.fail(e.path, e.reason);
    }
  }
  read_service_policies(r, svc);
  r.reject_unknown_keys();
  out.services[name] = svc;
}

// Parses YAML text, turning yaml-cpp's exceptions into a config error with the line.
bool parse_yaml(const std::string& text, YAML::Node& out, std::vector<config_error>& errors) {
  try {
    out = YAML::Load(text);
    return true;
  } catch (const YAML::Exception& e) {
    errors.push_back({"line " + std::to_string(e.mark.line + 1), e.msg});
    return false;
  }
}

// A document whose top level is a mapping holding `services`.
bool parse_services_root(const std::string& text, YAML::Node& root,
                         std::vector<config_error>& errors) {
  if (!parse_yaml(text, root, errors)) {
    return false;
  }
  if (!root.IsMap()) {
    errors.push_back({"", "the document must be a mapping with a services field"});
    return false;
  }
  return true;
}

template <class T, class Parse>
parsed<T> load_file(const std::string& path, Parse parse) {
  std::string text;
  if (!read_text_file(path, text)) {
    return {std::nullopt, {{"", "cannot open file"}}};
  }
  return parse(text);
}

}  // namespace

parsed<node> parse_node(const std::string& yaml_text) {
  parsed<node> result;
  YAML::Node root;
  if (!parse_yaml(yaml_text, root, result.errors)) {
    return result;
  }
  node n;
  reader r{root, "", result.errors};
  if (!root.IsMap()) {
    result.errors.push_back({"", "the document must be a mapping"});
    return result;
  }
  r.read_string("name", n.name);
  read_roles(r, n.roles);
  read_sidecar(r.child("sidecar"), n.sidecar);
  auto discovery = r.child("discovery");
  if (discovery.is_map()) {
    discovery.read_string("endpoints_file", n.endpoints_file);
    read_etcd(discovery.child("etcd"), n.etcd);
    read_kubernetes(discovery.child("kubernetes"), n.kubernetes_endpoints);
    discovery.reject_unknown_keys();
  }
  auto control = r.child("control");
  if (control.is_map() && control.exists()) {
    read_listener(control.child("listen"), n.control_listen);
    read_api_listener(control.child("api"), n.control_api);
    read_listener(control.child("console"), n.control_console);
    control.reject_unknown_keys();
  }
  read_control_plane(r.child("control_plane"), n.control_plane);
  read_tls(r.child("tls"), n.tls);
  bool federated = static_cast<bool>(r.get("federation"));
  read_federation(r.child("federation"), n);
  auto commander = r.child("commander");
  if (commander.is_map() && commander.exists()) {
    commander.read_string("audit_log", n.audit_log);
    commander.read_string("store", n.commander_store);
    read_kubernetes(commander.child("kubernetes"), n.kubernetes_config);
    commander.reject_unknown_keys();
  }
  for_each_service(r, [&](const std::string& name, const YAML::Node& svc, const std::string& path) {
    read_service(reader{svc, path, result.errors}, name, n);
  });
  r.reject_unknown_keys();
  bool local_control = n.has(role::discovery) && n.has(role::commander);
  if (n.has(role::sidecar) && !local_control && n.control_plane.port == 0) {
    result.errors.push_back({"control_plane",
                             "a sidecar without the discovery and commander roles needs a "
                             "control_plane {address, port} to attach to"});
  }
  if (n.control_listen.port != 0 && !local_control) {
    result.errors.push_back(
        {"control.listen", "only a node with the discovery and commander roles serves sidecars"});
  }
  if ((!n.etcd.endpoints.empty() || !n.kubernetes_endpoints.api.empty()) &&
      !n.has(role::discovery)) {
    result.errors.push_back({"discovery", "etcd and kubernetes sources need the discovery role"});
  }
  if (!n.kubernetes_config.api.empty() && !n.has(role::commander)) {
    result.errors.push_back({"commander.kubernetes", "needs the commander role"});
  }
  if (n.control_api.port != 0 && !local_control) {
    result.errors.push_back(
        {"control.api", "only a node with the discovery and commander roles serves the API"});
  }
  if (n.control_console.port != 0 && !local_control) {
    result.errors.push_back(
        {"control.console", "only a node with the discovery and commander roles serves it"});
  }
  if (federated && !local_control) {
    result.errors.push_back(
        {"federation", "needs the discovery and commander roles (it imports and exports)"});
  }
  if (n.federation.ingress.port != 0) {
    if (!n.has(role::sidecar)) {
      result.errors.push_back({"federation.ingress", "is served by this node's sidecar role"});
    }
    n.sidecar.ingress = n.federation.ingress;
  }
  n.sidecar.tls = n.tls;
  if (n.has(role::sidecar) && n.sidecar.outbound.port == 0 && n.sidecar.inbound.port == 0 &&
      n.sidecar.ingress.port == 0) {
    result.errors.push_back(
        {"sidecar", "a sidecar needs an outbound, an inbound or an ingress port"});
  }
  if (result.errors.empty()) {
    result.value = std::move(n);
  }
  return result;
}

parsed<service_map> parse_mesh_config(const std::string& yaml_text) {
  parsed<service_map> result;
  if (yaml_text.size() > max_document_bytes) {
    result.errors.push_back({"", "the document has " + std::to_string(yaml_text.size()) +
                                     " bytes; at most " + std::to_string(max_document_bytes) +
                                     " are accepted"});
    return result;
  }
  YAML::Node root;
  if (!parse_services_root(yaml_text, root, result.errors)) {
    return result;
  }
  node scratch;
  reader r{root, "", result.errors};
  if (!r.get("services")) {
    r.fail("services", "is required (a mapping of service names, may be empty: {})");
  } else if (r.get("services").size() > max_services) {
    r.fail("services", "has " + std::to_string(r.get("services").size()) + " services; at most " +
                           std::to_string(max_services) + " are accepted");
    return result;
  }
  for_each_service(r, [&](const std::string& name, const YAML::Node& svc, const std::string& path) {
    if (svc.IsMap() && svc["endpoints"]) {
      result.errors.push_back({path + ".endpoints",
                               "endpoints come from discovery (files, etcd, Kubernetes), not "
                               "from the mesh config"});
      return;
    }
    read_service(reader{svc, path, result.errors}, name, scratch);
  });
  r.reject_unknown_keys();
  if (result.errors.empty()) {
    result.value = std::move(scratch.services);
  }
  return result;
}

std::string services_document(const std::string& node_yaml) {
  YAML::Node root;
  std::vector<config_error> errors;
  if (!parse_yaml(node_yaml, root, errors) || !root.IsMap()) {
    return "services: {}\n";
  }
  YAML::Node services = YAML::Clone(root["services"] ? root["services"] : YAML::Node{});
  if (!services.IsMap()) {
    services = YAML::Node{YAML::NodeType::Map};
  }
  for (auto kv : services) {
    if (kv.second.IsMap()) {
      kv.second.remove("endpoints");
    }
  }
  YAML::Node doc;
  doc["services"] = services;
  YAML::Emitter out;
  out << doc;
  return std::string{out.c_str()} + "\n";
}

parsed<endpoint> parse_endpoint(const std::string& json_or_yaml, const std::string& path) {
  parsed<endpoint> result;
  YAML::Node root;
  if (!parse_yaml(json_or_yaml, root, result.errors)) {
    return result;
  }
  auto ep = read_endpoint(root, path, result.errors);
  if (!root || root.IsNull()) {
    result.errors.push_back({path, "must be a mapping {address, port, weight, labels}"});
  }
  if (result.errors.empty()) {
    result.value = std::move(ep);
  }
  return result;
}

parsed<node> load_node_file(const std::string& path) {
  return load_file<node>(path, parse_node);
}

parsed<endpoint_table> parse_endpoints(const std::string& yaml_text) {
  parsed<endpoint_table> result;
  YAML::Node root;
  if (!parse_services_root(yaml_text, root, result.errors)) {
    return result;
  }
  endpoint_table table;
  reader r{root, "", result.errors};
  for_each_service(r, [&](const std::string& name, const YAML::Node& svc, const std::string& path) {
    reader sr{svc, path, result.errors};
    if (!sr.is_map()) {
      return;
    }
    table[name] =
        read_endpoint_list(sr.get("endpoints"), sr.child_path("endpoints"), result.errors);
    sr.reject_unknown_keys();
  });
  r.reject_unknown_keys();
  if (result.errors.empty()) {
    result.value = std::move(table);
  }
  return result;
}

parsed<endpoint_table> load_endpoints_file(const std::string& path) {
  return load_file<endpoint_table>(path, parse_endpoints);
}

}  // namespace am::config
