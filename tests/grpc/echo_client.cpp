// The gRPC test client: `echo_client TARGET MODE [N]`. It honours the http_proxy environment
// variable as grpc++ does (CONNECT to the proxy, then HTTP/2 inside). Prints one JSON object:
// {"status": CODE, "message": "...", "servers": [...], "replies": N, "bytes": N,
//  "failures": N} (status and message: the last failed call's, when several are made).
//   unary BYTES          one call with a BYTES-byte payload
//   server-stream N      N replies
//   slow-stream N        N replies, 100 ms apart
//   client-stream N      N requests of 1 KiB, one reply
//   bidi N               N requests, N replies
//   deadline MS          a call the server answers after 2 s, with a deadline of MS
//   cancel MS            a call the server answers after 3 s, cancelled after MS
//   fail CODE            a call the server fails with CODE (its trailers must come back)
//   concurrent N         N unary calls at once on one channel
//   sequential N         N unary calls one after another on one channel
//   channels N           one unary call on each of N channels (N connections)
#include <grpcpp/grpcpp.h>

#include <cstdio>
#include <cstdlib>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/grpc/echo.grpc.pb.h"

namespace {

namespace pb = actormesh::test;

struct result {
  grpc::Status status;
  std::set<std::string> servers;
  int replies = 0;
  int64_t bytes = 0;
  int failures = 0;

  void add(const pb::EchoReply& r) {
    servers.insert(r.server());
    ++replies;
    bytes += static_cast<int64_t>(r.payload().size());
  }
};

std::string json_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += (static_cast<unsigned char>(c) < 0x20) ? ' ' : c;
  }
  return out;
}

std::shared_ptr<grpc::Channel> channel(const std::string& target, bool own_connection) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  args.SetMaxSendMessageSize(64 * 1024 * 1024);
  if (own_connection) {
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  }
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

void set_deadline(grpc::ClientContext& ctx, int ms) {
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds{ms});
}

result run(const std::string& target, const std::string& mode, int n) {
  auto stub = pb::Echo::NewStub(channel(target, false));
  result out;
  pb::EchoRequest req;
  pb::EchoReply reply;
  grpc::ClientContext ctx;
  set_deadline(ctx, 20000);
  if (mode == "unary") {
    req.set_payload(std::string(static_cast<size_t>(n), 'x'));
    out.status = stub->Unary(&ctx, req, &reply);
    if (out.status.ok()) {
      out.add(reply);
    }
  } else if (mode == "server-stream" || mode == "slow-stream") {
    req.set_count(n);
    req.set_delay_ms(mode == "slow-stream" ? 100 : 0);
    req.set_payload("0123456789");
    auto reader = stub->ServerStream(&ctx, req);
    while (reader->Read(&reply)) {
      out.add(reply);
    }
    out.status = reader->Finish();
  } else if (mode == "client-stream") {
    auto writer = stub->ClientStream(&ctx, &reply);
    req.set_payload(std::string(1024, 'c'));
    for (int i = 0; i < n && writer->Write(req); ++i) {
    }
    writer->WritesDone();
    out.status = writer->Finish();
    if (out.status.ok()) {
      out.servers.insert(reply.server());
      out.replies = reply.index();
      out.bytes = reply.total_bytes();
    }
  } else if (mode == "bidi") {
    auto stream = stub->Bidi(&ctx);
    req.set_payload("ping");
    for (int i = 0; i < n; ++i) {
      if (!stream->Write(req) || !stream->Read(&reply)) {
        break;
      }
      out.add(reply);
    }
    stream->WritesDone();
    out.status = stream->Finish();
  } else if (mode == "deadline" || mode == "cancel") {
    grpc::ClientContext call;
    req.set_delay_ms(mode == "deadline" ? 2000 : 3000);
    if (mode == "deadline") {
      set_deadline(call, n);
    }
    std::thread canceller;
    if (mode == "cancel") {
      canceller = std::thread{[&call, n] {
        std::this_thread::sleep_for(std::chrono::milliseconds{n});
        call.TryCancel();
      }};
    }
    out.status = stub->Unary(&call, req, &reply);
    if (canceller.joinable()) {
      canceller.join();
    }
  } else if (mode == "fail") {
    req.set_fail_code(n);
    out.status = stub->Unary(&ctx, req, &reply);
  } else if (mode == "concurrent") {
    grpc::CompletionQueue cq;
    struct call {
      grpc::ClientContext ctx;
      pb::EchoReply reply;
      grpc::Status status;
      std::unique_ptr<grpc::ClientAsyncResponseReader<pb::EchoReply>> rpc;
    };
    std::vector<std::unique_ptr<call>> calls;
    req.set_payload("concurrent");
    for (int i = 0; i < n; ++i) {
      auto c = std::make_unique<call>();
      set_deadline(c->ctx, 20000);
      c->rpc = stub->AsyncUnary(&c->ctx, req, &cq);
      c->rpc->Finish(&c->reply, &c->status, c.get());
      calls.push_back(std::move(c));
    }
    for (int i = 0; i < n; ++i) {
      void* tag = nullptr;
      bool ok = false;
      cq.Next(&tag, &ok);
      auto* c = static_cast<call*>(tag);
      if (c->status.ok()) {
        out.add(c->reply);
      } else {
        out.status = c->status;
        ++out.failures;
      }
    }
  } else if (mode == "sequential" || mode == "channels") {
    // One call after another: on the same channel, or each on a channel of its own.
    req.set_payload(mode);
    for (int i = 0; i < n; ++i) {
      auto own = mode == "channels" ? pb::Echo::NewStub(channel(target, true)) : nullptr;
      grpc::ClientContext call;
      set_deadline(call, 20000);
      auto s = (own ? *own : *stub).Unary(&call, req, &reply);
      if (s.ok()) {
        out.add(reply);
      } else {
        out.status = s;
        ++out.failures;
      }
    }
  } else {
    out.status = {grpc::StatusCode::INVALID_ARGUMENT, "unknown mode " + mode};
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: echo_client TARGET MODE [N]\n");
    return 2;
  }
  auto r = run(argv[1], argv[2], argc > 3 ? std::atoi(argv[3]) : 1);
  std::string servers;
  for (const auto& s : r.servers) {
    servers += (servers.empty() ? "\"" : ",\"") + json_escape(s) + "\"";
  }
  std::printf(
      "{\"status\": %d, \"message\": \"%s\", \"servers\": [%s], \"replies\": %d, "
      "\"bytes\": %lld, \"failures\": %d}\n",
      static_cast<int>(r.status.error_code()), json_escape(r.status.error_message()).c_str(),
      servers.c_str(), r.replies, static_cast<long long>(r.bytes), r.failures);
  return 0;
}
