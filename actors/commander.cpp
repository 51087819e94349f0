#include "actors/commander.h"

#include <chrono>
#include <ctime>
#include <deque>
#include <fstream>
#include <sstream>

#include "actors/config_store.h"
#include "actors/file_identity.h"
#include "actors/log.h"
#include "actors/subscribers.h"
#include "config/document_diff.h"
#include "config/json.h"
#include "config/load.h"
#include "config/text_file.h"

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace am::actors {

namespace {

constexpr auto poll_interval = std::chrono::milliseconds{250};
constexpr size_t history_limit = 64;

struct commander_state {
  node_context* ctx = nullptr;
  service_map services;
  std::deque<config_revision> history;  // oldest first; back() is in force
  config_store store{""};
  std::string file;
  file_identity seen;
  subscriber_list<services_sink> subscribers;
  subscriber_list<document_sink> document_subscribers;
  actor_stats* stats = nullptr;

  const config_revision& current() const { return history.back(); }
};

using self_ptr = commander_actor::stateful_pointer<commander_state>;

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string json_list(const std::vector<std::string>& names) {
  std::string out = "[";
  for (size_t i = 0; i < names.size(); ++i) {
    out += i ? "," : "";
    config::append_json_string(out, names[i]);
  }
  return out + "]";
}

// One audit line per accepted, rejected or rolled-back version: time, version, source and
// what changed (or why it was rejected).
void audit(self_ptr self, const char* event, uint64_t version, const std::string& source,
           const std::string& detail_json) {
  auto& log = *self->state.ctx->audit_log;
  if (!log.enabled()) {
    return;
  }
  auto secs = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  tm t{};
  gmtime_r(&secs, &t);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &t);
  std::string line = "{\"time\":\"";
  line += stamp;
  line += "\",\"kind\":\"config_audit\",\"event\":\"";
  line += event;
  line += "\",\"version\":" + std::to_string(version) + ",\"source\":";
  config::append_json_string(line, source);
  line += "," + detail_json + "}\n";
  log.submit(std::move(line));
}

std::string changes_json(const std::string& before, const std::string& after) {
  auto c = config::diff_services(before, after);
  return "\"services_added\":" + json_list(c.added) +
         ",\"services_removed\":" + json_list(c.removed) +
         ",\"services_changed\":" + json_list(c.changed);
}

std::vector<std::string> error_lines(const std::vector<config::config_error>& errors) {
  std::vector<std::string> out;
  for (const auto& e : errors) {
    out.push_back(e.to_string());
  }
  return out;
}

// A candidate that changes nothing: logged with its errors and audited.
void reject(self_ptr self, const std::string& source, const std::vector<std::string>& errors) {
  auto version = std::to_string(self->state.current().version);
  std::string all;
  for (const auto& e : errors) {
    all += "\n  " + e;
  }
  log_error("commander: rejected a config from " + source + ", version " + version +
            " stays in force:" + all);
  audit(self, "rejected", self->state.current().version, source, "\"errors\":" + json_list(errors));
}

void publish(self_ptr self) {
  auto& st = self->state;
  const auto& rev = st.current();
  st.ctx->status.set_config_version(rev.version);
  for (auto& s : st.subscribers) {
    self->send(s, services_atom::value, rev.version, st.services);
  }
  for (auto& s : st.document_subscribers) {
    self->send(s, document_atom::value, rev.version, rev.document);
  }
}

// Validates `document` whole; a valid one becomes the next version and is pushed.
apply_outcome apply(self_ptr self, const std::string& document, uint64_t expected,
                    const std::string& source, const char* event = "accepted") {
  auto& st = self->state;
  apply_outcome out;
  out.version = st.current().version;
  if (expected != 0 && expected != out.version) {
    out.result = apply_outcome::conflict;
    out.errors.push_back("expected version " + std::to_string(expected) +
                         " but the current version is " + std::to_string(out.version));
    reject(self, source, out.errors);
    return out;
  }
  if (document == st.current().document) {
    return out;  // already in force: no new version (a re-apply, a resource's status update)
  }
  auto parsed = config::parse_mesh_config(document);
  if (!parsed.ok()) {
    out.result = apply_outcome::invalid;
    out.errors = error_lines(parsed.errors);
    reject(self, source, out.errors);
    return out;
  }
  config_revision next{out.version + 1, source, unix_ms_now(), document};
  std::string error;
  if (st.store.enabled() && !st.store.save(next, error)) {
    out.result = apply_outcome::invalid;
    out.errors.push_back("commander.store: " + error +
                         " (not applied: it would not survive a restart)");
    reject(self, source, out.errors);
    return out;
  }
  auto changes = changes_json(st.current().document, document);
  st.services = std::move(*parsed.value);
  st.history.push_back(std::move(next));
  if (st.history.size() > history_limit) {
    st.history.pop_front();
  }
  out.version = st.current().version;
  log_info("commander: version " + std::to_string(out.version) + " from " + source + " (" +
           std::to_string(st.services.size()) + " services)");
  audit(self, event, out.version, source, changes);
  publish(self);
  return out;
}

// The node file changed: its services section is a candidate like any other. The rest of
// the node file (listeners, roles) only applies at the next start.
void reload_file(self_ptr self) {
  auto& st = self->state;
  std::string text;
  config::read_text_file(st.file, text);  // gone: empty, which the parse below refuses
  auto source = "file:" + st.file;
  auto node = config::parse_node(text);
  if (!node.ok()) {
    reject(self, source, error_lines(node.errors));
    return;
  }
  auto document = config::services_document(text);
  if (document != st.current().document) {
    apply(self, document, 0, source);
  }
}

// Restores the versions of a previous run from the store; false when there are none (or
// they cannot be used), and the node file's services become version 1.
bool restore(self_ptr self) {
  auto& st = self->state;
  if (!st.store.enabled()) {
    return false;
  }
  std::deque<config_revision> stored;
  std::string error;
  if (!st.store.load(stored, history_limit, error)) {
    log_error("commander: cannot restore from commander.store: " + error);
    return false;
  }
  if (stored.empty()) {
    return false;
  }
  auto parsed = config::parse_mesh_config(stored.back().document);
  if (!parsed.ok()) {
    log_error("commander: the stored version " + std::to_string(stored.back().version) +
              " no longer validates; starting from the node file:\n" +
              parsed.describe("commander.store"));
    return false;
  }
  st.services = std::move(*parsed.value);
  st.history = std::move(stored);
  log_info("commander: restored version " + std::to_string(st.current().version) + " (" +
           st.current().source + ") from " + st.ctx->config.commander_store +
           "; the node file's services apply again when it is edited");
  return true;
}

commander_actor::behavior_type commander(self_ptr self, node_context* ctx, std::string node_text,
                                         std::string watched_file) {
  auto& st = self->state;
  st.ctx = ctx;
  st.stats = ctx->actor_metrics.get("commander");
  st.file = std::move(watched_file);
  st.store = config_store{ctx->config.commander_store};
  if (!restore(self)) {
    auto origin = st.file.empty() ? std::string{"node config"} : "file:" + st.file;
    auto first = config::services_document(node_text);
    auto initial = config::parse_mesh_config(first);
    if (initial.ok()) {
      st.services = std::move(*initial.value);
    } else {  // the node file was validated; its services section cannot fail alone
      log_error("commander: the node's services section does not parse alone:\n" +
                initial.describe(origin));
    }
    st.history.push_back({1, origin, unix_ms_now(), first});
    std::string error;
    if (st.store.enabled() && !st.store.save(st.current(), error)) {
      log_error("commander: commander.store: " + error);
    }
    audit(self, "accepted", 1, origin, changes_json("", first));
  }
  st.ctx->status.set_config_version(st.current().version);
  if (!st.file.empty()) {
    st.seen = identify(st.file);
    self->delayed_send(self, poll_interval, poll_atom::value);
  }
  self->set_down_handler([self](const caf::down_msg& msg) {
    metered_handler m{self};
    self->state.subscribers.remove(msg);
    self->state.document_subscribers.remove(msg);
  });
  return {
      [self](subscribe_atom, services_sink sink) {
        metered_handler m{self};
        self->send(sink, services_atom::value, self->state.current().version, self->state.services);
        self->state.subscribers.add(self, std::move(sink));
      },
      [self](subscribe_atom, document_sink sink) {
        metered_handler m{self};
        const auto& rev = self->state.current();
        self->send(sink, document_atom::value, rev.version, rev.document);
        self->state.document_subscribers.add(self, std::move(sink));
      },
      [self](poll_atom) {
        metered_handler m{self};
        self->delayed_send(self, poll_interval, poll_atom::value);
        auto now = identify(self->state.file);
        if (now == self->state.seen) {
          return;
        }
        self->state.seen = now;
        reload_file(self);
      },
      [self](apply_atom, const std::string& document, uint64_t expected,
             const std::string& source) {
        metered_handler m{self};
        return apply(self, document, expected, source);
      },
      [self](rollback_atom, uint64_t version, const std::string& caller) {
        metered_handler m{self};
        auto& history = self->state.history;
        auto it = std::find_if(history.begin(), history.end(),
                               [&](const config_revision& r) { return r.version == version; });
        if (it == history.end()) {
          apply_outcome out;
          out.result = apply_outcome::not_found;
          out.version = self->state.current().version;
          out.errors.push_back("version " + std::to_string(version) +
                               " is not in the history (it keeps the last " +
                               std::to_string(history_limit) + " versions)");
          return out;
        }
        auto earlier = it->document;  // apply() may drop `it` from the history
        return apply(self, earlier, 0, "rollback:" + std::to_string(version) + " by " + caller,
                     "rolled_back");
      },
      [self](reject_atom, const std::string& source, const std::vector<std::string>& errors) {
        metered_handler m{self};
        reject(self, source, errors);
      },
      [self](current_atom) {
        metered_handler m{self};
        return self->state.current();
      },
      [self](history_atom) {
        metered_handler m{self};
        std::vector<config_revision> out;
        for (const auto& r : self->state.history) {
          out.push_back({r.version, r.source, r.applied_unix_ms, {}});
        }
        return out;
      },
  };
}

}  // namespace

commander_actor spawn_commander(caf::actor_system& sys, node_context& ctx, std::string node_text,
                                std::string watched_file) {
  return sys.spawn(commander, &ctx, std::move(node_text), std::move(watched_file));
}

}  // namespace am::actors
