#include "config/json.h"

#include <cstdio>

namespace am::config {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

namespace {

void append_listener(std::string& out, const listener& l) {
  out += "{\"address\":";
  append_json_string(out, l.address);
  out += ",\"port\":" + std::to_string(l.port) + "}";
}

}  // namespace

std::string to_json(const endpoint_table& t) {
  std::string out = "{";
  bool first_service = true;
  for (const auto& [name, eps] : t) {
    out += first_service ? "" : ",";
    first_service = false;
    append_json_string(out, name);
    out += ":[";
    for (size_t i = 0; i < eps.size(); ++i) {
      const auto& ep = eps[i];
      out += i ? ",{" : "{";
      out += "\"address\":";
      append_json_string(out, ep.address);
      out += ",\"port\":" + std::to_string(ep.port) + ",\"weight\":" + std::to_string(ep.weight);
      out += ",\"labels\":{";
      bool first_label = true;
      for (const auto& [k, v] : ep.labels) {
        out += first_label ? "" : ",";
        first_label = false;
        append_json_string(out, k);
        out += ':';
        append_json_string(out, v);
      }
      out += "}}";
    }
    out += "]";
  }
  return out + "}";
}

std::string to_json(const node& n) {
  const auto& s = n.sidecar;
  std::string out = "{\"name\":";
  append_json_string(out, n.name);
  out += ",\"roles\":[";
  bool first = true;
  for (auto r : n.roles) {
    out += first ? "" : ",";
    first = false;
    append_json_string(out, to_string(r));
  }
  out += "],\"sidecar\":{\"service_name\":";
  append_json_string(out, s.service_name);
  out += ",\"workers\":" + std::to_string(s.workers) + ",\"outbound\":";
  append_listener(out, s.outbound);
  out += ",\"inbound\":";
  append_listener(out, s.inbound);
  out += ",\"admin\":";
  append_listener(out, s.admin);
  out += ",\"ingress\":";
  append_listener(out, s.ingress);
  const auto& t = s.transparent;
  out += ",\"transparent\":{\"port\":" + std::to_string(t.port) +
         ",\"inbound\":" + (t.inbound ? "true" : "false") +
         ",\"detect_timeout_ms\":" + std::to_string(t.detect_timeout.count()) +
         ",\"opaque_ports\":[";
  for (size_t i = 0; i < t.opaque_ports.size(); ++i) {
    out += (i > 0 ? "," : "") + std::to_string(t.opaque_ports[i]);
  }
  out += "]}";
  out += ",\"unknown_hosts\":";
  append_json_string(out, to_string(s.unknown_hosts));
  out += ",\"drain_timeout_ms\":" + std::to_string(s.drain_timeout.count());
  out += ",\"header_timeout_ms\":" + std::to_string(s.header_timeout.count());
  out += ",\"idle_timeout_ms\":" + std::to_string(s.idle_timeout.count());
  out += ",\"max_header_bytes\":" + std::to_string(s.max_header_bytes);
  out += "}";
  if (const auto& f = n.federation; f.enabled()) {
    out += ",\"federation\":{\"cluster\":";
    append_json_string(out, f.cluster);
    out += ",\"listen\":";
    append_listener(out, f.listen);
    out += ",\"peers\":[";
    for (size_t i = 0; i < f.peers.size(); ++i) {
      out += i > 0 ? ",{\"name\":" : "{\"name\":";
      append_json_string(out, f.peers[i].name);
      out += ",\"address\":";
      append_json_string(out, f.peers[i].address);
      out += ",\"port\":" + std::to_string(f.peers[i].port) + "}";
    }
    out += "],\"heartbeat_ms\":" + std::to_string(f.heartbeat.count()) +
           ",\"peer_timeout_ms\":" + std::to_string(f.peer_timeout.count()) +
           ",\"stale_after_ms\":" + std::to_string(f.stale_after.count()) + "}";
  }
  out += ",\"services\":{";
  first = true;
  for (const auto& [name, svc] : n.services) {
    out += first ? "" : ",";
    first = false;
    append_json_string(out, name);
    out += ":{\"timeout_ms\":" + std::to_string(svc.timeout.count()) + ",\"lb\":\"round_robin\"}";
  }
  return out + "}}";
}

}  // namespace am::config
