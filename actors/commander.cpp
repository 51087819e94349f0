#include "actors/commander.h"

#include <chrono>
#include <ctime>
#include <fstream>
#include <sstream>

#include "actors/file_identity.h"
#include "actors/log.h"
#include "actors/subscribers.h"
#include "config/document_diff.h"
#include "config/json.h"
#include "config/load.h"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace am::actors {

namespace {

constexpr auto poll_interval = std::chrono::milliseconds{250};

struct commander_state {
  node_context* ctx = nullptr;
  service_map services;
  uint64_t version = 1;
  std::string file;
  file_identity seen;
  subscriber_list<services_sink> subscribers;
  subscriber_list<document_sink> document_subscribers;
  std::string document;  // the text of the accepted file
  actor_stats* stats = nullptr;
};

std::string read_text(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string json_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    out += i ? "," : "";
    config::append_json_string(out, names[i]);
  }
  return out + "]";
}

// One audit line: every accepted or rejected config version, with its source and what it
// changed (or why it was rejected).
void audit(commander_actor::stateful_pointer<commander_state> self, const char* event,
           const std::string& detail_json) {
  auto& st = self->state;
  if (!st.ctx->audit_log->enabled()) {
    return;
  }
  auto now = std::chrono::system_clock::now();
  auto secs = std::chrono::system_clock::to_time_t(now);
  tm t{};
  gmtime_r(&secs, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &t);
  std::string line = "{\"time\":\"";
  line += stamp;
  line += "\",\"kind\":\"config_audit\",\"event\":\"";
  line += event;
  line += "\",\"version\":" + std::to_string(st.version) + ",\"source\":";
  config::append_json_string(line, "file:" + st.file);
  line += "," + detail_json + "}\n";
  st.ctx->audit_log->submit(std::move(line));
}

void audit_accepted(commander_actor::stateful_pointer<commander_state> self,
                    const std::string& old_document) {
  auto c = config::diff_services(old_document, self->state.document);
  audit(self, "accepted",
        "\"services_added\":" + json_list(c.added) + ",\"services_removed\":" +
            json_list(c.removed) + ",\"services_changed\":" + json_list(c.changed));
}

// Re-reads the node file after a change; a valid `services` section becomes a new version.
void reload(commander_actor::stateful_pointer<commander_state> self) {
  auto& st = self->state;
  auto text = read_text(st.file);
  auto parsed = config::parse_node(text);
  if (!parsed.ok()) {
    log_error("commander: rejected an edit of " + st.file + ", version " +
              std::to_string(st.version) + " stays in force:\n" + parsed.describe(st.file));
    std::vector<std::string> errors;
    for (const auto& e : parsed.errors) {
      errors.push_back(e.to_string());
    }
    audit(self, "rejected", "\"errors\":" + json_list(errors));
    return;
  }
  auto old_document = std::move(st.document);
  st.services = parsed.value->services;
  st.document = std::move(text);
  ++st.version;
  log_info("commander: version " + std::to_string(st.version) + " from " + st.file + " (" +
           std::to_string(st.services.size()) + " services; only the services section applies " +
           "without a restart)");
  audit_accepted(self, old_document);
  for (auto& s : st.subscribers) {
    self->send(s, services_atom::value, st.version, st.services);
  }
  for (auto& s : st.document_subscribers) {
    self->send(s, document_atom::value, st.version, st.document);
  }
}

commander_actor::behavior_type commander(commander_actor::stateful_pointer<commander_state> self,
                                         node_context* ctx, service_map initial,
                                         std::string watched_file) {
  self->state.ctx = ctx;
  self->state.services = std::move(initial);
  self->state.file = std::move(watched_file);
  if (!self->state.file.empty()) {
    self->state.seen = identify(self->state.file);
    self->state.document = read_text(self->state.file);
    audit_accepted(self, "");
    self->delayed_send(self, poll_interval, poll_atom::value);
  }
  self->state.stats = ctx->actor_metrics.get("commander");
  self->set_down_handler([self](const caf::down_msg& msg) {
    self->state.subscribers.remove(msg);
    self->state.document_subscribers.remove(msg);
  });
  return {
      [self](subscribe_atom, services_sink sink) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        self->send(sink, services_atom::value, self->state.version, self->state.services);
        self->state.subscribers.add(self, std::move(sink));
      },
      [self](subscribe_atom, document_sink sink) {
        metered_handler m{self->state.stats, self->mailbox().size()};
        if (!self->state.document.empty()) {
          self->send(sink, document_atom::value, self->state.version, self->state.document);
        }
        self->state.document_subscribers.add(self, std::move(sink));
      },
      [self](poll_atom) {
        self->delayed_send(self, poll_interval, poll_atom::value);
        auto now = identify(self->state.file);
        if (now == self->state.seen) {
          return;
        }
        metered_handler m{self->state.stats, self->mailbox().size()};
        self->state.seen = now;
        reload(self);
      },
  };
}

}  // namespace

commander_actor spawn_commander(caf::actor_system& sys, node_context& ctx, service_map initial,
                                std::string watched_file) {
  return sys.spawn(commander, &ctx, std::move(initial), std::move(watched_file));
}

}  // namespace am::actors
