#include "actors/discovery.h"

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <chrono>
#include <set>
#include <unordered_set>

#include "actors/log.h"
#include "actors/subscribers.h"

namespace am::actors {

namespace {

// A version at most every 50 ms: the first change after a quiet spell goes out at once (its
// latency unchanged), those that follow within the interval become one version at its end. A
// burst of changes (thousands of etcd keys, a rollout's slices) is then a few pushes to every
// sidecar instead of one per change, each with the whole table (Istio debounces its pushes).
constexpr auto min_interval = std::chrono::milliseconds{50};

struct discovery_state {
  std::map<std::string, config::endpoint_table> sources;
  std::set<std::string> changed_sources;  // since the last version (for the log)
  // Until the first version: the sources not heard from yet, and when to stop waiting.
  std::set<std::string> awaited;
  caf::actor_clock::time_point first_deadline;
  // Set at spawn: the sources' first views, which all come within moments of the start, make
  // one first version (a node is ready with its endpoints, not with a part of them).
  caf::actor_clock::time_point last_version;
  bool settling = false;  // a settle message will make the next version
  config::endpoint_table merged;
  uint64_t version = 0;
  subscriber_list<endpoints_sink> subscribers;
  actor_stats* stats = nullptr;
  node_context* ctx = nullptr;
};

using self_ptr = discovery_actor::stateful_pointer<discovery_state>;

std::string joined(const std::set<std::string>& names) {
  std::string out;
  for (const auto& name : names) {
    out += (out.empty() ? "" : ", ") + name;
  }
  return out;
}

// Merges the sources and, when that changed anything, pushes it as the next version.
void make_version(self_ptr self) {
  auto& st = self->state;
  auto merged = merge_sources(st.sources);
  auto from = joined(st.changed_sources);
  st.changed_sources.clear();
  if (merged == st.merged && st.version > 0) {
    return;  // nothing changed: no push
  }
  st.merged = std::move(merged);
  ++st.version;
  st.last_version = self->clock().now();
  st.ctx->status.set_discovery_version(st.version);
  log_info("discovery: version " + std::to_string(st.version) + " from source " + from + " (" +
           std::to_string(st.merged.size()) + " services)");
  for (auto& s : st.subscribers) {
    self->send(s, endpoints_atom::value, st.version, st.merged);
  }
}

// Whether the first version still waits for a source's first view.
bool awaiting_first_views(const discovery_state& st) {
  return st.version == 0 && !st.awaited.empty();
}

discovery_actor::behavior_type discovery(self_ptr self, node_context* ctx,
                                         std::set<std::string> awaited) {
  self->state.ctx = ctx;
  self->state.stats = ctx->actor_metrics.get("discovery");
  self->state.last_version = self->clock().now();
  self->state.awaited = std::move(awaited);
  if (!self->state.awaited.empty()) {
    self->state.first_deadline = self->state.last_version + first_view_wait;
    self->delayed_send(self, first_view_wait, settle_atom::value);
  }
  self->set_down_handler([self](const caf::down_msg& msg) {
    metered_handler m{self};
    self->state.subscribers.remove(msg);
  });
  return {
      [self](source_atom, const std::string& source, config::endpoint_table& table) {
        metered_handler m{self};
        auto& st = self->state;
        st.sources[source] = std::move(table);
        st.changed_sources.insert(source);
        st.awaited.erase(source);
        if (st.settling || awaiting_first_views(st)) {
          return;  // the interval's end, the last first view or the deadline makes the version
        }
        auto now = self->clock().now();
        auto next = st.last_version + min_interval;
        if (now >= next) {
          make_version(self);
          return;
        }
        st.settling = true;
        self->delayed_send(self, next - now, settle_atom::value);
      },
      [self](settle_atom) {
        metered_handler m{self};
        auto& st = self->state;
        if (awaiting_first_views(st)) {
          if (self->clock().now() < st.first_deadline) {
            return;
          }
          log_warn("discovery: no first view from " + joined(st.awaited) + " within " +
                   std::to_string(first_view_wait.count()) +
                   " s; the first version goes without it");
          st.awaited.clear();
        } else if (!st.settling) {
          return;  // the first views' deadline, passed after the first version
        }
        st.settling = false;
        make_version(self);
      },
      [self](subscribe_atom, endpoints_sink sink) {
        metered_handler m{self};
        if (self->state.version > 0) {
          self->send(sink, endpoints_atom::value, self->state.version, self->state.merged);
        }
        self->state.subscribers.add(self, std::move(sink));
      },
  };
}

}  // namespace

config::endpoint_table merge_sources(const std::map<std::string, config::endpoint_table>& sources) {
  config::endpoint_table merged;
  std::map<std::string, std::unordered_set<std::string>> seen;  // service → address:port
  for (const auto& [source, table] : sources) {
    for (const auto& [service, endpoints] : table) {
      auto& out = merged[service];
      auto& keys = seen[service];
      for (const auto& ep : endpoints) {
        if (keys.insert(ep.address + ":" + std::to_string(ep.port)).second) {
          out.push_back(ep);
        }
      }
    }
  }
  return merged;
}

std::string file_source_name(const std::string& path) {
  return "file:" + path;
}

std::set<std::string> configured_sources(const config::node& node) {
  std::set<std::string> out{inline_source};
  if (!node.endpoints_file.empty()) {
    out.insert(file_source_name(node.endpoints_file));
  }
  if (!node.etcd.endpoints.empty()) {
    out.insert(etcd_source);
  }
  if (!node.kubernetes_endpoints.api.empty()) {
    out.insert(kubernetes_source);
  }
  return out;
}

discovery_actor spawn_discovery(caf::actor_system& sys, node_context& ctx,
                                std::set<std::string> awaited) {
  return sys.spawn(discovery, &ctx, std::move(awaited));
}

}  // namespace am::actors
