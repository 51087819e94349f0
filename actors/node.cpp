#include "actors/node.h"

#include <csignal>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>
#include <caf/openssl/manager.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "actors/admin.h"
#include "actors/commander.h"
#include "actors/console.h"
#include "actors/control_gateway.h"
#include "actors/control_link.h"
#include "actors/control_plane_handles.h"
#include "actors/discovery.h"
#include "actors/file_source.h"
#include "actors/global_lb.h"
#include "actors/log.h"
#include "actors/sidecar.h"
#include "actors/tls_remoting.h"

namespace am::actors {

namespace {

constexpr auto file_poll_interval = std::chrono::milliseconds{250};

sigset_t shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

int wait_for_shutdown_signal() {
  auto set = shutdown_signals();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

// Drains the sidecar: stop accepting, finish in-flight requests up to the drain timeout.
void drain(caf::actor_system& sys, const sidecar_actor& sidecar, const config::node& node) {
  caf::scoped_actor self{sys};
  auto deadline = node.sidecar.drain_timeout + std::chrono::seconds{2};
  self->request(sidecar, deadline, drain_atom::value)
      .receive([](bool ok) { log_info(ok ? "drained" : "drain deadline reached"); },
               [](caf::error& e) { log_warn("drain did not finish: " + caf::to_string(e)); });
}

void unpublish(caf::actor_system& sys, const config::node& node, const caf::actor& whom,
               uint16_t port) {
  if (!whom || port == 0) {
    return;
  }
  // Whichever published it (caf::openssl::unpublish does not compile in 0.17.6).
  auto mm =
      node.tls.enabled() ? sys.openssl_manager().actor_handle() : sys.middleman().actor_handle();
  caf::scoped_actor self{sys};
  self->request(mm, std::chrono::seconds{2}, caf::unpublish_atom::value, whom.address(), port)
      .receive([] {},
               [&](caf::error& e) {
                 log_warn("cannot close port " + std::to_string(port) + ": " + sys.render(e));
               });
}

}  // namespace

void block_shutdown_signals() {
  auto set = shutdown_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
}

bool needs_control_plane_extensions(const config::node& node) {
  return node.control_api.port != 0 || !node.etcd.endpoints.empty() ||
         !node.kubernetes_endpoints.api.empty() || !node.kubernetes_config.api.empty() ||
         node.federation.enabled();
}

int run_node(const config::node& node, const node_launch& launch) {
  if (needs_control_plane_extensions(node) && !launch.control_plane) {
    log_error(std::string{"this node needs control.api, etcd, Kubernetes or federation, which "} +
              launch.executable + " leaves out (it is the lean sidecar): run actormesh");
    return 1;
  }
  caf::actor_system_config cfg;
  add_message_types(cfg);
  cfg.set("scheduler.max-threads", size_t{2});
  // Control actors handle a few hundred messages a second. The default work-stealing
  // scheduler polls for ~25 ms after each message (sleeping 50 us at a time), which with
  // outcome batches every 10 ms never stops and cost the data plane's core ~15% here;
  // the sharing scheduler waits on a condition variable instead.
  cfg.set("scheduler.policy", caf::atom("sharing"));
  bool remoting =
      node.control_listen.port != 0 || node.control_plane.port != 0 || node.federation.enabled();
  if (remoting) {
    cfg.load<caf::io::middleman>();
    // Heartbeats make a hung or cut peer visible (without them only a closed socket is);
    // the interval stays well above handshake time (CAF_GUIDE.md §3).
    cfg.set("middleman.heartbeat-interval", caf::timespan{std::chrono::milliseconds{500}});
    cfg.set("middleman.connection-timeout", caf::timespan{std::chrono::seconds{3}});
    if (node.tls.enabled()) {
      // Mutual TLS on every middleman link: a peer without a certificate from the CA, or
      // speaking plaintext, fails its handshake (CAF_GUIDE.md §3).
      if (std::string error; !load_tls_remoting(cfg, error)) {
        log_error("tls: " + error);
        return 1;
      }
      cfg.openssl_certificate = node.tls.cert;
      cfg.openssl_key = node.tls.key;
      cfg.openssl_cafile = node.tls.ca;
    }
  }
  node_context ctx{node};
  caf::actor_system sys{cfg};

  discovery_actor discovery;
  commander_actor commander;
  sidecar_actor sidecar;
  file_source_actor file_source;
  control_gateway_actor gateway;
  global_lb_actor global_lb;
  signals_actor signals;
  caf::actor control_link;
  if (node.has(config::role::discovery)) {
    discovery = spawn_discovery(sys, ctx, configured_sources(node));
    signals = spawn_signals(sys, ctx);
    caf::anon_send(discovery, source_atom::value, std::string{inline_source},
                   node.inline_endpoints);
    if (!node.endpoints_file.empty()) {
      file_source = spawn_file_source(sys, ctx, node.endpoints_file, discovery, file_poll_interval);
    }
  }
  if (node.has(config::role::commander)) {
    commander = spawn_commander(sys, ctx, launch.text, launch.file);
  }
  if (node.has(config::role::global_lb)) {
    global_lb = spawn_global_lb(sys, ctx);
  }
  std::string error;  // a part that could not start: the node stops and exits 1
  caf::actor federation;
  if (node.federation.enabled()) {
    federation =
        launch.federation(sys, ctx, {discovery, commander, {}, global_lb, signals, {}}, error);
    if (!federation) {
      log_error(error);
      kill(getpid(), SIGTERM);
    }
  }
  if (node.has(config::role::sidecar)) {
    if (!spawn_sidecar(sys, ctx, sidecar, error)) {
      log_error("sidecar: cannot start: " + error);
      caf::anon_send_exit(discovery, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(signals, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(file_source, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(commander, caf::exit_reason::user_shutdown);
      caf::anon_send_exit(federation, caf::exit_reason::user_shutdown);
      return 1;
    }
    if (federation) {
      caf::anon_send(federation, subscribe_atom::value, endpoints_sink{sidecar});
    } else {
      caf::anon_send(discovery, subscribe_atom::value, endpoints_sink{sidecar});
    }
    caf::anon_send(commander, subscribe_atom::value, services_sink{sidecar});
    if (!discovery && node.control_plane.port != 0) {
      control_link = spawn_control_link(sys, ctx, sidecar);
    }
    // Load reports of `lb: global` services: to this node's global-lb, or through the link.
    if (global_lb) {
      caf::anon_send(sidecar, report_to_atom::value, caf::actor_cast<caf::actor>(global_lb));
    } else if (control_link) {
      caf::anon_send(sidecar, report_to_atom::value, control_link);
    }
    // Golden signals: to this node's signals actor, or through the link.
    if (signals) {
      caf::anon_send(sidecar, signals_to_atom::value, caf::actor_cast<caf::actor>(signals));
    } else if (control_link) {
      caf::anon_send(sidecar, signals_to_atom::value, control_link);
    }
  }
  if (node.control_listen.port != 0) {
    gateway = spawn_control_gateway(sys, ctx, discovery, commander, global_lb, signals);
    auto port =
        node.tls.enabled()
            ? publish_tls(gateway, node.control_listen.port, node.control_listen.address.c_str())
            : sys.middleman().publish(gateway, node.control_listen.port,
                                      node.control_listen.address.c_str(), true);
    if (!port) {
      error = "control: cannot listen on " + node.control_listen.address + ":" +
              std::to_string(node.control_listen.port) + ": " + sys.render(port.error());
      log_error(error);
      kill(getpid(), SIGTERM);
    } else {
      log_info("control: sidecars attach at " + node.control_listen.address + ":" +
               std::to_string(*port) + (node.tls.enabled() ? " (mutual TLS)" : " (plaintext)"));
    }
  }
  std::vector<std::unique_ptr<node_service>> services;
  if (error.empty() && launch.control_plane && needs_control_plane_extensions(node)) {
    services = launch.control_plane(
        sys, ctx, {discovery, commander, gateway, global_lb, signals, sidecar}, error);
    if (!error.empty()) {
      log_error(error);
      kill(getpid(), SIGTERM);
    }
  }
  std::unique_ptr<console_listener> console;
  if (error.empty() && node.control_console.port != 0) {
    console = std::make_unique<console_listener>(sys, ctx, signals, gateway);
    if (!console->start(error)) {
      log_error(error);
      kill(getpid(), SIGTERM);
    }
  }
  admin_listener admin{ctx, [] { kill(getpid(), SIGTERM); }};
  if (error.empty() && !admin.start(error)) {
    log_error("admin: cannot start: " + error);
    kill(getpid(), SIGTERM);
  }
  log_info("node " + node.name + " up");

  auto sig = wait_for_shutdown_signal();
  log_info(std::string{"received "} + (sig == SIGINT ? "SIGINT" : "SIGTERM") + ", draining");
  ctx.status.set_draining();
  // No new middleman connections while shutting down: peers and sidecars dial again the
  // moment they lose this node's gateways, and CAF's broker, having learned of a node that
  // connected, waits on it (a hidden helper actor) and outlives the system (a leak at exit).
  caf::anon_send_exit(federation, caf::exit_reason::user_shutdown);
  unpublish(sys, node, federation, node.federation.listen.port);
  unpublish(sys, node, caf::actor_cast<caf::actor>(gateway), node.control_listen.port);
  if (sidecar) {
    drain(sys, sidecar, node);
  }
  services.clear();  // API server and watchers stop before the actors they talk to
  caf::anon_send_exit(sidecar, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(file_source, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(commander, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(discovery, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(gateway, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(global_lb, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(signals, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(control_link, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(federation, caf::exit_reason::user_shutdown);
  return error.empty() ? 0 : 1;
}

}  // namespace am::actors
