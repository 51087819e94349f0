// meshctl: the command-line client of the control plane's gRPC API (proto/control.proto).
#include <grpcpp/grpcpp.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "config/text_file.h"
#include "proto/control.grpc.pb.h"

namespace {

namespace pb = actormesh::control::v1;

constexpr const char* usage = R"(meshctl - the actormesh control plane's command-line client

usage: meshctl [--server HOST:PORT] [--token-file F] [--ca F [--cert F --key F]] COMMAND [ARGS]

commands:
  apply -f FILE [--expect-version N] [--caller NAME] [--wait SECONDS]
                        validate FILE (services: {...}) and make it the next config
                        version; with --expect-version only if N is still current;
                        with --wait, return once every connected sidecar has it in
                        force (each of its workers routes with it), exit 4 if not
                        within SECONDS
  get                   the config version in force and its document
  history               every version the control plane keeps: version, time, source
  rollback VERSION      make VERSION's document the next version
  status [--json]       the config version, and each sidecar: connected or not, the
                        version it applied and when
  endpoints [SERVICE]   the discovered endpoints (of one service, or all)
  watch [SERVICE...]    print every new endpoint version until interrupted
  lb SERVICE [--json]   the global-lb's table of an `lb: global` service: each
                        endpoint's weight, the load behind it (requests/s, mean
                        latency, errors, in flight) and how many sidecars ejected it
  stat [SERVICE] [--from S] [--to S] [--window 10s|1m|10m] [--json]
                        golden signals from the sidecars' reports: success rate,
                        requests/s, p50/p95/p99 latency, requests and how many
                        sidecars reported, per destination service; per (source,
                        destination) pair for SERVICE's callers or with --from/--to
  tap SERVICE [--from S] [--path PREFIX] [--method M] [--status N|Nxx]
      [--max-rps N] [--count N] [--duration SECONDS] [--json]
                        a live stream of the requests to SERVICE that match, from
                        every sidecar that proxies them: method, authority, path,
                        status, latency, endpoint, attempts, caller and sidecar;
                        at most --max-rps (100) per sidecar worker, the rest counted;
                        ends after --count requests, --duration, or when interrupted
  clusters [--json]     federation: this cluster, what it exports, and each peer: its
                        gateway, link (up, down, stale), last heard, round trip and the
                        services imported from it with their endpoint counts

--server defaults to $MESHCTL_SERVER, else 127.0.0.1:15010 (control.api of the node).
--token-file F   send the bearer token in F (control.api.tokens_file); $MESHCTL_TOKEN_FILE
--ca F           speak TLS and trust the control plane's certificate if it chains to F;
--cert F --key F with this client certificate (control.api.tls requires one);
                 $MESHCTL_CA, $MESHCTL_CERT, $MESHCTL_KEY
exit codes: 0 done; 1 rejected (invalid, conflict, unknown version; lb: no table);
            2 usage;
            3 control plane unreachable or failing; 4 apply --wait timed out
)";

constexpr auto call_timeout = std::chrono::seconds{10};

int usage_error(const std::string& message) {
  std::fprintf(stderr, "meshctl: %s\n(see meshctl --help)\n", message.c_str());
  return 2;
}

int rpc_error(const grpc::Status& s, const std::string& server) {
  std::fprintf(stderr, "meshctl: %s: %s (gRPC code %d)\n", server.c_str(),
               s.error_message().c_str(), static_cast<int>(s.error_code()));
  return 3;
}

std::string format_time(int64_t unix_ms) {
  time_t secs = unix_ms / 1000;
  tm t{};
  gmtime_r(&secs, &t);
  char out[32];
  std::strftime(out, sizeof out, "%Y-%m-%dT%H:%M:%SZ", &t);
  return out;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

// How to reach the control plane: where, and with which credentials.
struct connection_options {
  std::string server;
  std::string token;          // empty: none sent
  std::string ca, cert, key;  // PEM text; ca empty: plaintext
};

std::shared_ptr<grpc::ChannelCredentials> credentials(const connection_options& o) {
  if (o.ca.empty()) {
    return grpc::InsecureChannelCredentials();
  }
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = o.ca;
  ssl.pem_cert_chain = o.cert;
  ssl.pem_private_key = o.key;
  return grpc::SslCredentials(ssl);
}

class client {
 public:
  explicit client(const connection_options& options)
      : server_(options.server),
        token_(options.token),
        channel_(grpc::CreateChannel(server_, credentials(options))),
        commander_(pb::Commander::NewStub(channel_)),
        discovery_(pb::Discovery::NewStub(channel_)),
        load_balancer_(pb::LoadBalancer::NewStub(channel_)),
        stats_(pb::Stats::NewStub(channel_)),
        federation_(pb::Federation::NewStub(channel_)) {}

  int apply(const std::vector<std::string>& args) {
    std::string file;
    double wait_seconds = -1;  // no wait
    pb::ApplyRequest req;
    req.set_caller(std::getenv("USER") ? std::getenv("USER") : "meshctl");
    for (size_t i = 0; i < args.size(); ++i) {
      auto more = i + 1 < args.size();
      if (args[i] == "-f" && more) {
        file = args[++i];
      } else if (args[i] == "--expect-version" && more) {
        req.set_expected_version(std::strtoull(args[++i].c_str(), nullptr, 10));
      } else if (args[i] == "--caller" && more) {
        req.set_caller(args[++i]);
      } else if (args[i] == "--wait" && more) {
        wait_seconds = std::strtod(args[++i].c_str(), nullptr);
      } else {
        return usage_error("apply: unexpected argument " + args[i]);
      }
    }
    if (file.empty()) {
      return usage_error("apply needs -f FILE");
    }
    std::string text;
    if (!am::config::read_text_file(file, text)) {
      std::fprintf(stderr, "meshctl: cannot read %s\n", file.c_str());
      return 2;
    }
    req.set_document(std::move(text));
    pb::ApplyResponse resp;
    auto ctx = context();
    auto s = commander_->Apply(ctx.get(), req, &resp);
    if (!s.ok()) {
      return rpc_error(s, server_);
    }
    auto result = report(resp, file);
    if (result != 0 || wait_seconds < 0) {
      return result;
    }
    return wait_in_force(resp.version(), std::chrono::duration<double>(wait_seconds));
  }

  // Polls the status until every connected sidecar acknowledged `version` (sidecars ack a
  // version once all their workers route with it).
  int wait_in_force(uint64_t version, std::chrono::duration<double> timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      pb::StatusResponse resp;
      auto ctx = context();
      auto s = commander_->Status(ctx.get(), pb::StatusRequest{}, &resp);
      if (!s.ok()) {
        return rpc_error(s, server_);
      }
      int connected = 0, behind = 0;
      for (const auto& sc : resp.sidecars()) {
        connected += sc.connected();
        behind += sc.connected() && sc.config_version() < version;
      }
      if (behind == 0) {
        std::printf("in force on %d connected sidecars\n", connected);
        return 0;
      }
      if (std::chrono::steady_clock::now() >= deadline) {
        std::fprintf(stderr, "meshctl: %d of %d connected sidecars not at version %llu yet\n",
                     behind, connected, (unsigned long long)version);
        return 4;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
  }

  int rollback(const std::vector<std::string>& args) {
    if (args.size() != 1) {
      return usage_error("rollback needs VERSION");
    }
    pb::RollbackRequest req;
    req.set_version(std::strtoull(args[0].c_str(), nullptr, 10));
    req.set_caller(std::getenv("USER") ? std::getenv("USER") : "meshctl");
    pb::ApplyResponse resp;
    auto ctx = context();
    auto s = commander_->Rollback(ctx.get(), req, &resp);
    return s.ok() ? report(resp, "rollback") : rpc_error(s, server_);
  }

  int get() {
    pb::ConfigVersion resp;
    auto ctx = context();
    auto s = commander_->Get(ctx.get(), pb::GetRequest{}, &resp);
    if (!s.ok()) {
      return rpc_error(s, server_);
    }
    std::printf("# version %llu, %s, from %s\n%s", (unsigned long long)resp.version(),
                format_time(resp.applied_unix_ms()).c_str(), resp.source().c_str(),
                resp.document().c_str());
    return 0;
  }

  int history() {
    pb::HistoryResponse resp;
    auto ctx = context();
    auto s = commander_->History(ctx.get(), pb::HistoryRequest{}, &resp);
    if (!s.ok()) {
      return rpc_error(s, server_);
    }
    std::printf("%-8s %-21s %s\n", "VERSION", "APPLIED", "SOURCE");
    for (const auto& v : resp.versions()) {
      std::printf("%-8llu %-21s %s\n", (unsigned long long)v.version(),
                  format_time(v.applied_unix_ms()).c_str(), v.source().c_str());
    }
    return 0;
  }

  int status(const std::vector<std::string>& args) {
    bool json = !args.empty() && args[0] == "--json";
    if (args.size() > (json ? 1u : 0u)) {
      return usage_error("status: unexpected argument " + args.back());
    }
    pb::StatusResponse resp;
    auto ctx = context();
    auto s = commander_->Status(ctx.get(), pb::StatusRequest{}, &resp);
    if (!s.ok()) {
      return rpc_error(s, server_);
    }
    if (json) {
      std::printf("{\"config_version\":%llu,\"sidecars\":[",
                  (unsigned long long)resp.config_version());
      for (int i = 0; i < resp.sidecars_size(); ++i) {
        const auto& sc = resp.sidecars(i);
        std::printf(
            "%s{\"name\":%s,\"connected\":%s,\"config_version\":%llu,"
            "\"acked_unix_ms\":%lld,\"endpoints_version\":%llu}",
            i ? "," : "", json_string(sc.name()).c_str(), sc.connected() ? "true" : "false",
            (unsigned long long)sc.config_version(), (long long)sc.acked_unix_ms(),
            (unsigned long long)sc.endpoints_version());
      }
      std::printf("]}\n");
      return 0;
    }
    std::printf("config version %llu\n", (unsigned long long)resp.config_version());
    std::printf("%-24s %-12s %-8s %-21s %s\n", "SIDECAR", "STATE", "VERSION", "ACKED", "USES");
    for (const auto& sc : resp.sidecars()) {
      std::string uses;
      for (const auto& u : sc.uses()) {
        uses += (uses.empty() ? "" : ",") + u;
      }
      std::printf("%-24s %-12s %-8llu %-21s %s\n", sc.name().c_str(),
                  sc.connected() ? "connected" : "disconnected",
                  (unsigned long long)sc.config_version(),
                  sc.acked_unix_ms() ? format_time(sc.acked_unix_ms()).c_str() : "-",
                  uses.empty() ? "(all)" : uses.c_str());
    }
    return 0;
  }

  int endpoints(const std::vector<std::string>& args) {
    pb::EndpointsRequest req;
    for (const auto& a : args) {
      req.add_services(a);
    }
    pb::EndpointsUpdate resp;
    auto ctx = context();
    auto s = discovery_->Endpoints(ctx.get(), req, &resp);
    if (!s.ok()) {
      return rpc_error(s, server_);
    }
    print(resp);
    if (args.size() == 1 && resp.services().count(args[0]) == 0) {
      std::fprintf(stderr, "meshctl: no endpoints known for %s\n", args[0].c_str());
      return 1;
    }
    return 0;
  }

  int stat(const std::vector<std::string>& args) {
    pb::StatRequest req;
    bool json = false;
    for (size_t i = 0; i < args.size(); ++i) {
      auto more = i + 1 < args.size();
      if (args[i] == "--json") {
        json = true;
      } else if (args[i] == "--from" && more) {
        req.set_from(args[++i]);
      } else if (args[i] == "--to" && more) {
        req.set_to(args[++i]);
      } else if (args[i] == "--window" && more) {
        req.set_window(args[++i]);
      } else if (args[i].rfind("--", 0) != 0 && req.to().empty()) {
        req.set_to(args[i]);
      } else {
        return usage_error("stat: unexpected argument " + args[i]);
      }
    }
    req.set_by_pair(!req.from().empty() || !req.to().empty());
    pb::StatResponse r;
    auto ctx = context();
    auto s = stats_->Stat(ctx.get(), req, &r);
    if (!s.ok()) {
      return s.error_code() == grpc::StatusCode::INVALID_ARGUMENT
                 ? usage_error("stat: " + s.error_message())
                 : rpc_error(s, server_);
    }
    if (json) {
      std::printf("{\"window\":%s,\"rows\":[", json_string(r.window()).c_str());
      for (int i = 0; i < r.rows_size(); ++i) {
        const auto& row = r.rows(i);
        std::printf(
            "%s{\"source\":%s,\"destination\":%s,\"requests\":%llu,\"failures\":%llu,"
            "\"success_rate\":%.6f,\"requests_per_s\":%.3f,\"p50_ms\":%.3f,"
            "\"p95_ms\":%.3f,\"p99_ms\":%.3f,\"sidecars\":%u}",
            i ? "," : "", json_string(row.source()).c_str(), json_string(row.destination()).c_str(),
            (unsigned long long)row.requests(), (unsigned long long)row.failures(),
            row.success_rate(), row.requests_per_s(), row.p50_us() / 1000.0, row.p95_us() / 1000.0,
            row.p99_us() / 1000.0, row.sidecars());
      }
      std::printf("]}\n");
      return 0;
    }
    if (r.rows_size() == 0) {
      std::printf("no calls reported in the last %s\n", r.window().c_str());
      return 0;
    }
    std::string header = req.by_pair() ? "SOURCE" : "";
    std::printf("%-*s%-20s %8s %9s %9s %9s %9s %9s %8s\n", req.by_pair() ? 20 : 0, header.c_str(),
                "DESTINATION", "SUCCESS", "RPS", "P50_MS", "P95_MS", "P99_MS", "REQUESTS",
                "SIDECARS");
    for (const auto& row : r.rows()) {
      std::printf("%-*s%-20s %7.2f%% %9.1f %9.2f %9.2f %9.2f %9llu %8u\n", req.by_pair() ? 20 : 0,
                  req.by_pair() ? row.source().c_str() : "", row.destination().c_str(),
                  row.success_rate() * 100, row.requests_per_s(), row.p50_us() / 1000.0,
                  row.p95_us() / 1000.0, row.p99_us() / 1000.0, (unsigned long long)row.requests(),
                  row.sidecars());
    }
    return 0;
  }

  int tap(const std::vector<std::string>& args) {
    pb::TapRequest req;
    bool json = false;
    uint64_t count = 0;
    double duration = 0;
    for (size_t i = 0; i < args.size(); ++i) {
      auto more = i + 1 < args.size();
      if (args[i] == "--json") {
        json = true;
      } else if (args[i] == "--from" && more) {
        req.set_from(args[++i]);
      } else if (args[i] == "--path" && more) {
        req.set_path_prefix(args[++i]);
      } else if (args[i] == "--method" && more) {
        req.set_method(args[++i]);
      } else if (args[i] == "--status" && more) {
        const auto& v = args[++i];
        bool is_class = v.size() == 3 && v[0] >= '1' && v[0] <= '5' && v.substr(1) == "xx";
        int status = is_class ? v[0] - '0' : std::atoi(v.c_str());
        if (!is_class && (status < 100 || status > 599)) {
          return usage_error("tap: --status must be a status (100-599) or a class (1xx-5xx)");
        }
        req.set_status(status);
      } else if (args[i] == "--max-rps" && more) {
        req.set_max_per_second(static_cast<uint32_t>(std::strtoul(args[++i].c_str(), nullptr, 10)));
      } else if (args[i] == "--count" && more) {
        count = std::strtoull(args[++i].c_str(), nullptr, 10);
      } else if (args[i] == "--duration" && more) {
        duration = std::strtod(args[++i].c_str(), nullptr);
      } else if (args[i].rfind("--", 0) != 0 && req.service().empty()) {
        req.set_service(args[i]);
      } else {
        return usage_error("tap: unexpected argument " + args[i]);
      }
    }
    if (req.service().empty()) {
      return usage_error("tap needs SERVICE");
    }
    auto ctx = context(false);
    if (duration > 0) {
      ctx->set_deadline(std::chrono::system_clock::now() +
                        std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::duration<double>(duration)));
    }
    auto stream = stats_->Tap(ctx.get(), req);
    pb::TapEvent e;
    uint64_t seen = 0;
    while ((count == 0 || seen < count) && stream->Read(&e)) {
      seen += e.kind() == pb::TapEvent::REQUEST ? 1 : 0;
      print(e, json);
      std::fflush(stdout);
    }
    if (count > 0 && seen >= count) {
      ctx->TryCancel();
      return 0;
    }
    auto s = stream->Finish();
    if (s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && duration > 0) {
      return 0;
    }
    if (s.error_code() == grpc::StatusCode::INVALID_ARGUMENT) {
      return usage_error("tap: " + s.error_message());
    }
    return s.ok() ? 0 : rpc_error(s, server_);
  }

  int lb(const std::vector<std::string>& args) {
    bool json = args.size() == 2 && args[1] == "--json";
    if (args.empty() || args.size() > (json ? 2u : 1u)) {
      return usage_error("lb needs SERVICE [--json]");
    }
    pb::TableRequest req;
    req.set_service(args[0]);
    pb::WeightTable t;
    auto ctx = context();
    auto s = load_balancer_->Table(ctx.get(), req, &t);
    if (!s.ok()) {
      return rpc_error(s, server_);
    }
    if (json) {
      std::printf(
          "{\"service\":%s,\"source\":\"%s\",\"version\":%llu,\"age_ms\":%lld,"
          "\"sidecars\":%llu,\"endpoints\":[",
          json_string(t.service()).c_str(), t.known() ? "global" : "local",
          (unsigned long long)t.version(), (long long)t.age_ms(), (unsigned long long)t.sidecars());
      for (int i = 0; i < t.endpoints_size(); ++i) {
        const auto& e = t.endpoints(i);
        std::printf(
            "%s{\"endpoint\":%s,\"weight\":%u,\"requests_per_s\":%.1f,"
            "\"mean_latency_ms\":%.2f,\"errors\":%llu,\"active\":%llu,"
            "\"ejected_by\":%u}",
            i ? "," : "", json_string(e.endpoint()).c_str(), e.weight(), e.requests_per_s(),
            e.mean_latency_ms(), (unsigned long long)e.errors(), (unsigned long long)e.active(),
            e.ejected_by());
      }
      std::printf("]}\n");
      return t.known() ? 0 : 1;
    }
    if (!t.known()) {
      std::printf("%s: no global weights (no sidecar reported it: they balance locally)\n",
                  t.service().c_str());
      return 1;
    }
    std::printf("%s: global weights, version %llu, %lld ms old, from %llu sidecars\n",
                t.service().c_str(), (unsigned long long)t.version(), (long long)t.age_ms(),
                (unsigned long long)t.sidecars());
    std::printf("%-24s %-7s %-7s %-8s %-11s %-7s %-7s %s\n", "ENDPOINT", "WEIGHT", "SOURCE",
                "REQ/S", "LATENCY_MS", "ERRORS", "ACTIVE", "EJECTED_BY");
    for (const auto& e : t.endpoints()) {
      std::printf("%-24s %-7u %-7s %-8.1f %-11.2f %-7llu %-7llu %u\n", e.endpoint().c_str(),
                  e.weight(), "global", e.requests_per_s(), e.mean_latency_ms(),
                  (unsigned long long)e.errors(), (unsigned long long)e.active(), e.ejected_by());
    }
    return 0;
  }

  int clusters(const std::vector<std::string>& args) {
    bool json = !args.empty() && args[0] == "--json";
    if (args.size() > (json ? 1u : 0u)) {
      return usage_error("clusters: unexpected argument " + args.back());
    }
    pb::ClustersResponse resp;
    auto ctx = context();
    auto s = federation_->Clusters(ctx.get(), pb::ClustersRequest{}, &resp);
    if (!s.ok()) {
      return rpc_error(s, server_);
    }
    std::string exported;
    for (const auto& e : resp.exported()) {
      exported += (exported.empty() ? "" : ",") + e;
    }
    auto imported = [](const pb::PeerCluster& p, bool as_json) {
      std::map<std::string, uint32_t> sorted{p.imported().begin(), p.imported().end()};
      std::string out;
      for (const auto& [service, n] : sorted) {
        out += out.empty() ? "" : ",";
        out += as_json ? json_string(service) + ":" + std::to_string(n)
                       : service + "(" + std::to_string(n) + ")";
      }
      return out;
    };
    if (json) {
      std::printf("{\"cluster\":%s,\"exported\":[", json_string(resp.cluster()).c_str());
      for (int i = 0; i < resp.exported_size(); ++i) {
        std::printf("%s%s", i ? "," : "", json_string(resp.exported(i)).c_str());
      }
      std::printf("],\"peers\":[");
      for (int i = 0; i < resp.peers_size(); ++i) {
        const auto& p = resp.peers(i);
        std::printf(
            "%s{\"name\":%s,\"address\":%s,\"connected\":%s,\"up\":%s,\"stale\":%s,"
            "\"last_heard_unix_ms\":%lld,\"rtt_us\":%lld,\"imported\":{%s}}",
            i ? "," : "", json_string(p.name()).c_str(), json_string(p.address()).c_str(),
            p.connected() ? "true" : "false", p.up() ? "true" : "false",
            p.stale() ? "true" : "false", (long long)p.last_heard_unix_ms(), (long long)p.rtt_us(),
            imported(p, true).c_str());
      }
      std::printf("]}\n");
      return 0;
    }
    std::printf("cluster %s, exports %s\n", resp.cluster().c_str(),
                exported.empty() ? "nothing" : exported.c_str());
    std::printf("%-12s %-21s %-13s %-21s %-8s %s\n", "PEER", "GATEWAY", "LINK", "LAST HEARD",
                "RTT_MS", "IMPORTED");
    for (const auto& p : resp.peers()) {
      auto link = p.up() ? "up" : p.stale() ? "down (stale)" : p.connected() ? "down" : "unlinked";
      auto rtt = p.rtt_us() >= 0 ? std::to_string(p.rtt_us() / 1000.0).substr(0, 5) : "-";
      std::printf("%-12s %-21s %-13s %-21s %-8s %s\n", p.name().c_str(), p.address().c_str(), link,
                  p.last_heard_unix_ms() ? format_time(p.last_heard_unix_ms()).c_str() : "-",
                  rtt.c_str(), imported(p, false).c_str());
    }
    return 0;
  }

  int watch(const std::vector<std::string>& args) {
    pb::EndpointsRequest req;
    for (const auto& a : args) {
      req.add_services(a);
    }
    auto ctx = context(false);
    auto stream = discovery_->Watch(ctx.get(), req);
    pb::EndpointsUpdate update;
    while (stream->Read(&update)) {
      print(update);
      std::fflush(stdout);
    }
    auto s = stream->Finish();
    return s.ok() ? 0 : rpc_error(s, server_);
  }

 private:
  std::unique_ptr<grpc::ClientContext> context(bool deadline = true) {
    auto ctx = std::make_unique<grpc::ClientContext>();
    if (deadline) {
      ctx->set_deadline(std::chrono::system_clock::now() + call_timeout);
    }
    if (!token_.empty()) {
      ctx->AddMetadata("authorization", "Bearer " + token_);
    }
    return ctx;
  }

  static int report(const pb::ApplyResponse& resp, const std::string& what) {
    switch (resp.result()) {
      case pb::ApplyResponse::APPLIED:
        std::printf("%s: config version %llu in force\n", what.c_str(),
                    (unsigned long long)resp.version());
        return 0;
      case pb::ApplyResponse::INVALID:
        std::fprintf(stderr, "%s: rejected, version %llu stays in force:\n", what.c_str(),
                     (unsigned long long)resp.version());
        break;
      case pb::ApplyResponse::CONFLICT:
        std::fprintf(stderr, "%s: conflict:\n", what.c_str());
        break;
      default:
        std::fprintf(stderr, "%s: not found:\n", what.c_str());
        break;
    }
    for (const auto& e : resp.errors()) {
      std::fprintf(stderr, "  %s\n", e.c_str());
    }
    return 1;
  }

  static void print(const pb::TapEvent& e, bool json) {
    if (e.kind() == pb::TapEvent::TAPPING) {
      json
          ? std::printf("{\"kind\":\"tapping\",\"sidecar\":%s}\n", json_string(e.sidecar()).c_str())
          : std::printf("# tapping on sidecar %s\n", e.sidecar().c_str());
      return;
    }
    if (e.kind() == pb::TapEvent::DROPPED) {
      json ? std::printf("{\"kind\":\"dropped\",\"sidecar\":%s,\"dropped\":%llu}\n",
                         json_string(e.sidecar()).c_str(), (unsigned long long)e.dropped())
           : std::printf("# sidecar %s: %llu matching requests over the rate limit, not shown\n",
                         e.sidecar().c_str(), (unsigned long long)e.dropped());
      return;
    }
    if (json) {
      std::printf(
          "{\"kind\":\"request\",\"sidecar\":%s,\"unix_ms\":%lld,\"source\":%s,"
          "\"destination\":%s,\"method\":%s,\"authority\":%s,\"path\":%s,\"status\":%d,"
          "\"grpc_status\":%d,\"latency_ms\":%.3f,\"endpoint\":%s,\"attempt\":%u,"
          "\"error\":%s}\n",
          json_string(e.sidecar()).c_str(), (long long)e.unix_ms(), json_string(e.source()).c_str(),
          json_string(e.destination()).c_str(), json_string(e.method()).c_str(),
          json_string(e.authority()).c_str(), json_string(e.path()).c_str(), e.status(),
          e.grpc_status(), e.latency_us() / 1000.0, json_string(e.endpoint()).c_str(), e.attempt(),
          json_string(e.error()).c_str());
      return;
    }
    std::string grpc =
        e.grpc_status() >= 0 ? " grpc-status=" + std::to_string(e.grpc_status()) : "";
    std::string error = e.error().empty() ? "" : " error=" + e.error();
    std::printf(
        "%s %s -> %s %s %s%s status=%d%s latency=%.3fms endpoint=%s attempt=%u sidecar=%s%s\n",
        format_time(e.unix_ms()).c_str(), e.source().empty() ? "-" : e.source().c_str(),
        e.destination().c_str(), e.method().c_str(), e.authority().c_str(), e.path().c_str(),
        e.status(), grpc.c_str(), e.latency_us() / 1000.0,
        e.endpoint().empty() ? "-" : e.endpoint().c_str(), e.attempt(), e.sidecar().c_str(),
        error.c_str());
  }

  static void print(const pb::EndpointsUpdate& update) {
    std::printf("# endpoints version %llu\n", (unsigned long long)update.version());
    // Protobuf maps are unordered: print services sorted.
    std::vector<std::string> names;
    for (const auto& [name, list] : update.services()) {
      names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      for (const auto& ep : update.services().at(name).endpoints()) {
        std::string labels;
        std::map<std::string, std::string> sorted{ep.labels().begin(), ep.labels().end()};
        for (const auto& [k, v] : sorted) {
          labels += (labels.empty() ? "" : ",") + k + "=" + v;
        }
        std::printf("%s %s:%u weight=%u %s\n", name.c_str(), ep.address().c_str(), ep.port(),
                    ep.weight(), labels.c_str());
      }
    }
  }

  std::string server_;
  std::string token_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::Commander::Stub> commander_;
  std::unique_ptr<pb::Discovery::Stub> discovery_;
  std::unique_ptr<pb::LoadBalancer::Stub> load_balancer_;
  std::unique_ptr<pb::Stats::Stub> stats_;
  std::unique_ptr<pb::Federation::Stub> federation_;
};

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : fallback;
}

// The whole file, without the trailing white space (a token file ends with a newline).
bool read_file(const std::string& path, std::string& out) {
  if (!am::config::read_text_file(path, out)) {
    std::fprintf(stderr, "meshctl: cannot read %s\n", path.c_str());
    return false;
  }
  while (!out.empty() && std::isspace(static_cast<unsigned char>(out.back()))) {
    out.pop_back();
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args{argv + 1, argv + argc};
  connection_options options;
  options.server = env_or("MESHCTL_SERVER", "127.0.0.1:15010");
  std::string token_file = env_or("MESHCTL_TOKEN_FILE", "");
  std::string ca = env_or("MESHCTL_CA", ""), cert = env_or("MESHCTL_CERT", ""),
              key = env_or("MESHCTL_KEY", "");
  const std::map<std::string, std::string*> flags = {{"--server", &options.server},
                                                     {"-s", &options.server},
                                                     {"--token-file", &token_file},
                                                     {"--ca", &ca},
                                                     {"--cert", &cert},
                                                     {"--key", &key}};
  while (!args.empty() && flags.count(args[0]) > 0) {
    if (args.size() < 2) {
      return usage_error(args[0] + " needs a value");
    }
    *flags.at(args[0]) = args[1];
    args.erase(args.begin(), args.begin() + 2);
  }
  if (cert.empty() != key.empty() || (!cert.empty() && ca.empty())) {
    return usage_error("--cert and --key go together, and with --ca");
  }
  if ((!token_file.empty() && !read_file(token_file, options.token)) ||
      (!ca.empty() && !read_file(ca, options.ca)) ||
      (!cert.empty() && (!read_file(cert, options.cert) || !read_file(key, options.key)))) {
    return 2;
  }
  if (args.empty()) {
    std::fputs(usage, stderr);
    return 2;
  }
  auto command = args[0];
  args.erase(args.begin());
  if (command == "--help" || command == "-h" || command == "help") {
    std::fputs(usage, stdout);
    return 0;
  }
  client c{options};
  if (command == "apply") {
    return c.apply(args);
  }
  if (command == "rollback") {
    return c.rollback(args);
  }
  if (command == "get" && args.empty()) {
    return c.get();
  }
  if (command == "history" && args.empty()) {
    return c.history();
  }
  if (command == "status") {
    return c.status(args);
  }
  if (command == "endpoints" && args.size() <= 1) {
    return c.endpoints(args);
  }
  if (command == "watch") {
    return c.watch(args);
  }
  if (command == "lb") {
    return c.lb(args);
  }
  if (command == "stat") {
    return c.stat(args);
  }
  if (command == "tap") {
    return c.tap(args);
  }
  if (command == "clusters") {
    return c.clusters(args);
  }
  return usage_error("unknown command or arguments: " + command);
}
