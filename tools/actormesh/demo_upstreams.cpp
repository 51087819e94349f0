#include "demo_upstreams.h"

namespace am::tools {

namespace {

std::string label(const config::endpoint& ep, const std::string& key) {
  auto i = ep.labels.find(key);
  return i == ep.labels.end() ? "-" : i->second;
}

}  // namespace

bool demo_upstreams::start(const config::node& node, std::string& error) {
  for (const auto& [service, endpoints] : node.inline_endpoints) {
    for (const auto& ep : endpoints) {
      auto who =
          service + " " + label(ep, "version") + " " + ep.address + ":" + std::to_string(ep.port);
      auto server =
          std::make_unique<net::simple_http_server>(who, [who](const net::simple_request& req) {
            net::simple_response r;
            r.body = who + "\n" + req.head.method + " " + req.head.target + "\n";
            for (size_t i = 0; i < req.head.count; ++i) {
              r.body += req.head.fields[i].name + ": " + req.head.fields[i].value + "\n";
            }
            r.extra_headers.push_back({"x-served-by", who});
            return r;
          });
      if (!server->start(ep.address, ep.port, error)) {
        error = "demo upstream " + who + ": " + error;
        return false;
      }
      servers_.push_back(std::move(server));
    }
  }
  return true;
}

}  // namespace am::tools
