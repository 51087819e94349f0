// The HTTP/2 session over bytes, as a server (after the client preface) or as a client (the
// first byte chooses), with every header block turned into a message head as the connections
// do: frames from a hostile peer must never crash the codec or grow it without bound.
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/h2_message.h"
#include "net/h2_session.h"

namespace {

using namespace am::net;

struct events final : h2_events {
  void on_h2_headers(int32_t, std::span<h2_field> fields, bool end_stream) override {
    message_head head;
    std::string error;
    read_h2_head(fields, end_stream, head, error);
  }
  void on_h2_data(int32_t stream, const char*, size_t size) override {
    if (session != nullptr) {
      session->consume(stream, size);
    }
  }
  void on_h2_end(int32_t) override {}
  void on_h2_closed(int32_t, uint32_t) override {}
  void on_h2_goaway(int32_t, uint32_t) override {}
  h2_session* session = nullptr;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) {
    return 0;
  }
  bool server = (data[0] & 1) == 0;
  events e;
  h2_session session{
      server ? h2_session::role::server : h2_session::role::client, e, {64, 65535, 4096, 1}};
  e.session = &session;
  std::string out;
  session.output(out);
  if (!server) {
    // A client has a request in flight, so the server's frames have a stream to answer.
    h2_fields request = {
        {":method", "POST"}, {":scheme", "http"}, {":authority", "a"}, {":path", "/"}};
    session.submit_request(request, false);
  }
  std::string input;
  if (server) {
    input = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
  }
  input.append(reinterpret_cast<const char*>(data) + 1, size - 1);
  for (size_t at = 0; at < input.size(); at += 512) {
    auto n = std::min<size_t>(512, input.size() - at);
    if (!session.feed(input.data() + at, n)) {
      break;
    }
    out.clear();
    session.output(out);
  }
  return 0;
}
