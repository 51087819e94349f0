// The gRPC test server: `echo_server NAME PORT [unavailable]`. Listens on 127.0.0.1:PORT,
// prints "listening" when ready, and "cancelled <method>" whenever a call is cancelled by its
// client. With `unavailable`, every unary call fails with UNAVAILABLE (a broken endpoint).
#include <grpcpp/grpcpp.h>

#include <csignal>
#include <cstdio>
#include <string>
#include <thread>

#include "tests/grpc/echo.grpc.pb.h"

namespace {

namespace pb = actormesh::test;

// Waits up to `ms`, returning early (false) when the client cancels the call.
bool wait_unless_cancelled(grpc::ServerContext* ctx, int ms, const char* method) {
  for (int waited = 0; waited < ms; waited += 10) {
    if (ctx->IsCancelled()) {
      std::printf("cancelled %s\n", method);
      std::fflush(stdout);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{10});
  }
  return true;
}

class echo_service final : public pb::Echo::Service {
 public:
  echo_service(std::string name, bool unavailable)
      : name_(std::move(name)), unavailable_(unavailable) {}

  grpc::Status Unary(grpc::ServerContext* ctx, const pb::EchoRequest* req,
                     pb::EchoReply* reply) override {
    if (!wait_unless_cancelled(ctx, req->delay_ms(), "Unary")) {
      return grpc::Status::CANCELLED;
    }
    if (req->fail_code() != 0) {
      return {static_cast<grpc::StatusCode>(req->fail_code()), "failing as asked by " + name_};
    }
    if (unavailable_) {
      return {grpc::StatusCode::UNAVAILABLE, name_ + " is unavailable"};
    }
    reply->set_server(name_);
    reply->set_payload(req->payload());
    reply->set_total_bytes(static_cast<int64_t>(req->payload().size()));
    return grpc::Status::OK;
  }

  grpc::Status ServerStream(grpc::ServerContext* ctx, const pb::EchoRequest* req,
                            grpc::ServerWriter<pb::EchoReply>* writer) override {
    for (int i = 0; i < req->count(); ++i) {
      if (!wait_unless_cancelled(ctx, req->delay_ms(), "ServerStream")) {
        return grpc::Status::CANCELLED;
      }
      pb::EchoReply reply;
      reply.set_server(name_);
      reply.set_index(i);
      reply.set_payload(req->payload());
      if (!writer->Write(reply)) {
        break;
      }
    }
    return grpc::Status::OK;
  }

  grpc::Status ClientStream(grpc::ServerContext*, grpc::ServerReader<pb::EchoRequest>* reader,
                            pb::EchoReply* reply) override {
    pb::EchoRequest req;
    int64_t total = 0;
    int count = 0;
    while (reader->Read(&req)) {
      total += static_cast<int64_t>(req.payload().size());
      ++count;
    }
    reply->set_server(name_);
    reply->set_index(count);
    reply->set_total_bytes(total);
    return grpc::Status::OK;
  }

  grpc::Status Bidi(grpc::ServerContext*,
                    grpc::ServerReaderWriter<pb::EchoReply, pb::EchoRequest>* stream) override {
    pb::EchoRequest req;
    int i = 0;
    while (stream->Read(&req)) {
      pb::EchoReply reply;
      reply.set_server(name_);
      reply.set_index(i++);
      reply.set_payload(req.payload());
      stream->Write(reply);
    }
    return grpc::Status::OK;
  }

 private:
  std::string name_;
  bool unavailable_;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::fprintf(stderr, "usage: echo_server NAME PORT [unavailable]\n");
    return 2;
  }
  echo_service service{argv[1], argc == 4 && std::string{argv[3]} == "unavailable"};
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort(std::string{"127.0.0.1:"} + argv[2], grpc::InsecureServerCredentials(),
                           &port);
  builder.SetMaxReceiveMessageSize(64 * 1024 * 1024);
  builder.SetMaxSendMessageSize(64 * 1024 * 1024);
  builder.RegisterService(&service);
  auto server = builder.BuildAndStart();
  if (!server || port == 0) {
    std::fprintf(stderr, "echo_server: cannot listen on port %s\n", argv[2]);
    return 1;
  }
  std::printf("listening\n");
  std::fflush(stdout);
  server->Wait();
}
