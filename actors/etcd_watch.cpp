#include "actors/etcd_watch.h"

#include <grpcpp/grpcpp.h>

#include "actors/log.h"
#include "config/etcd_endpoints.h"
#include "proto/etcd_rpc.grpc.pb.h"

namespace am::actors {

namespace {

namespace pb = etcdserverpb;

constexpr auto call_timeout = std::chrono::seconds{3};
constexpr auto first_backoff = std::chrono::milliseconds{100};
constexpr auto max_backoff = std::chrono::milliseconds{2000};
// Keys per list request: a prefix of any size is listed in pages, all at the first page's
// revision (as Kubernetes lists etcd).
constexpr int64_t list_page = 500;

std::shared_ptr<grpc::Channel> make_channel(const std::string& target) {
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff grows to two minutes by default; an etcd that comes back
  // should be seen within our own backoff.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 2000);
  // A member that hangs without closing the connection is noticed by keepalive pings
  // (etcd accepts one every 5 s or slower).
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
  // A watch response catching up on many revisions can exceed gRPC's default 4 MiB (etcd's
  // own client takes any size); lists are paged (list_page) and stay well below this.
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

config::etcd_change to_change(const pb::KeyValue& kv, bool deleted) {
  return {deleted, kv.key(), kv.value()};
}

// Lists [key, range_end) page by page at one revision (the first page's): every key as a
// change into `out`, the revision into `revision`. `track` registers each call's context so
// that a stop cancels it; false from it ends the listing (status CANCELLED).
template <class Track>
grpc::Status list_prefix(pb::KV::Stub& kv, std::string key, const std::string& range_end,
                         Track track, std::vector<config::etcd_change>& out, int64_t& revision) {
  revision = 0;
  for (;;) {
    pb::RangeRequest range;
    range.set_key(key);
    range.set_range_end(range_end);
    range.set_limit(list_page);
    range.set_revision(revision);  // 0 (the first page): the latest
    pb::RangeResponse page;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + call_timeout);
    if (!track(&ctx)) {
      return grpc::Status::CANCELLED;
    }
    auto status = kv.Range(&ctx, range, &page);
    track(nullptr);
    if (!status.ok()) {
      return status;
    }
    if (revision == 0) {
      revision = page.header().revision();
    }
    for (const auto& item : page.kvs()) {
      out.push_back(to_change(item, false));
    }
    if (!page.more() || page.kvs_size() == 0) {
      return grpc::Status::OK;
    }
    key = page.kvs(page.kvs_size() - 1).key() + '\0';  // the next key after the last
  }
}

void log_errors(const std::vector<std::string>& errors) {
  for (const auto& e : errors) {
    log_warn("etcd source: ignored " + e);
  }
}

}  // namespace

etcd_watch::etcd_watch(config::etcd_source_settings settings, publish_fn publish)
    : settings_(std::move(settings)), publish_(std::move(publish)), thread_([this] { run(); }) {}

etcd_watch::~etcd_watch() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
    if (current_) {
      current_->TryCancel();
    }
  }
  wake_.notify_all();
  thread_.join();
}

bool etcd_watch::wait(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock{mutex_};
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

void etcd_watch::run() {
  auto channel = make_channel(settings_.endpoints);
  auto kv = pb::KV::NewStub(channel);
  auto watch = pb::Watch::NewStub(channel);
  // After a failure, a fresh channel: a failed one waits for its own re-resolution and
  // reconnect timers (tens of seconds) before it tries the address again.
  auto renew = [&] {
    channel = make_channel(settings_.endpoints);
    kv = pb::KV::NewStub(channel);
    watch = pb::Watch::NewStub(channel);
  };
  const auto& prefix = settings_.prefix;
  auto range_end = config::etcd_prefix_end(prefix);
  config::etcd_endpoint_view view{prefix};
  auto backoff = first_backoff;
  bool reachable = true;  // for logging each outage once
  // Registers `ctx` as the call to cancel on stop; false when already stopping.
  auto track = [this](grpc::ClientContext* ctx) {
    std::lock_guard<std::mutex> lock{mutex_};
    current_ = ctx;
    return !stopping_;
  };
  while (wait(std::chrono::milliseconds{0})) {
    // 1. List everything under the prefix.
    std::vector<config::etcd_change> changes;
    int64_t revision = 0;
    auto status = list_prefix(*kv, prefix, range_end, track, changes, revision);
    if (!status.ok()) {
      if (!wait(std::chrono::milliseconds{0})) {
        break;
      }
      if (reachable) {
        log_warn("etcd source: cannot list " + prefix + " at " + settings_.endpoints + ": " +
                 status.error_message() + "; keeping the last known endpoints, retrying");
        reachable = false;
      }
      wait(backoff);
      backoff = std::min(max_backoff, backoff * 2);
      renew();
      continue;
    }
    if (!reachable) {
      log_info("etcd source: " + settings_.endpoints + " reachable again");
      reachable = true;
    }
    backoff = first_backoff;
    std::vector<std::string> errors;
    view.reset(changes, errors);
    log_errors(errors);
    publish_(view.table());

    // 2. Follow every change after the listing.
    grpc::ClientContext watch_ctx;
    if (!track(&watch_ctx)) {
      break;
    }
    auto stream = watch->Watch(&watch_ctx);
    pb::WatchRequest create;
    auto* c = create.mutable_create_request();
    c->set_key(prefix);
    c->set_range_end(range_end);
    c->set_start_revision(revision + 1);
    pb::WatchResponse resp;
    if (stream->Write(create)) {
      while (stream->Read(&resp)) {
        if (resp.compact_revision() > 0) {
          log_warn("etcd source: the watch fell behind etcd's compaction (revision " +
                   std::to_string(resp.compact_revision()) + "); re-listing");
          break;
        }
        if (resp.canceled()) {
          log_warn("etcd source: watch cancelled (" + resp.cancel_reason() + "); re-listing");
          break;
        }
        if (resp.events_size() == 0) {
          continue;
        }
        changes.clear();
        for (const auto& ev : resp.events()) {
          changes.push_back(to_change(ev.kv(), ev.type() == pb::Event::DELETE));
        }
        errors.clear();
        view.apply(changes, errors);
        log_errors(errors);
        publish_(view.table());
      }
    }
    watch_ctx.TryCancel();
    auto end = stream->Finish();
    track(nullptr);
    if (wait(std::chrono::milliseconds{0})) {
      log_warn("etcd source: watch on " + settings_.endpoints + " ended (" + end.error_message() +
               "); re-listing");
    }
  }
}

}  // namespace am::actors
