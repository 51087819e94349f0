// The HTTP/1.1 parser with its framing rules, as a request parser and as a response parser
// (the first byte chooses), over bytes fed in pieces whose sizes the input chooses too: what
// another parser could read differently must never crash or loop.
#include <cstddef>
#include <cstdint>
#include <string>

#include "net/http1_parser.h"

namespace {

struct recorder final : am::net::http1_parser::sink {
  bool on_head(am::net::message_head& head) override {
    fields += head.count;
    return head.method == "HEAD";  // a response to HEAD has no body
  }
  void on_body(const char*, size_t size) override { body += size; }
  void on_message_complete() override { ++messages; }
  size_t fields = 0, body = 0, messages = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) {
    return 0;
  }
  auto kind = (data[0] & 1) != 0 ? am::net::http1_parser::kind::response
                                 : am::net::http1_parser::kind::request;
  size_t piece = 1 + data[1] % 64;
  data += 2;
  size -= 2;
  recorder r;
  am::net::http1_parser parser{kind, r, 8 * 1024};
  std::string pending;
  for (size_t at = 0; at < size; at += piece) {
    pending.append(reinterpret_cast<const char*>(data) + at, std::min(piece, size - at));
    // As a connection does: feed, drop what was used, go on after each message.
    for (int rounds = 0; rounds < 1000 && !pending.empty(); ++rounds) {
      auto used = parser.feed(pending.data(), pending.size());
      pending.erase(0, used);
      if (parser.error() != am::net::parse_error::none) {
        return 0;
      }
      if (r.messages > 0) {
        parser.resume();
      } else if (used == 0) {
        break;
      }
    }
  }
  parser.feed_eof();
  return 0;
}
