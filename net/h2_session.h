// One HTTP/2 connection's framing and stream state, over bytes (nghttp2): feed() what the
// socket read, send what output() produces. No sockets and no timers here, so the codec is
// tested in memory (a client session talking to a server session); the connection classes
// that will own it do the I/O. Both roles: the downstream side is a server, the upstream side
// a client.
//
// Flow control is end to end: received DATA opens the peer's window again only when the
// owner says it forwarded the bytes (consume()), so a slow reader on the other side slows
// this peer through its window, never through unbounded buffering. Outgoing DATA is queued per
// stream (buffered() tells how much waits for the peer's window).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "net/byte_buffer.h"

struct nghttp2_session;

namespace am::net {

struct h2_field {
  std::string name;  // lower case; pseudo-headers start with ':'
  std::string value;
  // Kept out of HPACK's dynamic table: a value that changes every request (a request id)
  // would only evict the entries that do repeat.
  bool no_index = false;
};
using h2_fields = std::vector<h2_field>;

// A header block that keeps its strings' capacity from one use to the next (a request's
// fields are built and parsed without allocating once the connection is warm).
class h2_field_list {
 public:
  void clear() { count_ = 0; }
  h2_field& add() {
    if (count_ == items_.size()) {
      items_.emplace_back();
    }
    auto& f = items_[count_++];
    f.name.clear();
    f.value.clear();
    f.no_index = false;
    return f;
  }
  void add(std::string_view name, std::string_view value) {
    auto& f = add();
    f.name.assign(name);
    f.value.assign(value);
  }
  size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }
  h2_field& back() { return items_[count_ - 1]; }
  std::span<h2_field> view() { return {items_.data(), count_}; }
  std::span<const h2_field> view() const { return {items_.data(), count_}; }
  // Drops the fields for which `drop` is true, keeping the order of the rest.
  template <class Pred>
  void erase_if(Pred drop) {
    size_t kept = 0;
    for (size_t i = 0; i < count_; ++i) {
      if (!drop(items_[i])) {
        if (kept != i) {
          std::swap(items_[kept], items_[i]);
        }
        ++kept;
      }
    }
    count_ = kept;
  }

 private:
  std::vector<h2_field> items_;
  size_t count_ = 0;
};

// What the session reports, stream by stream.
class h2_events {
 public:
  // A complete header block: request or response headers (with pseudo-headers), or trailers
  // (none). `end_stream`: the peer sends nothing more on this stream.
  virtual void on_h2_headers(int32_t stream, std::span<h2_field> fields, bool end_stream) = 0;
  virtual void on_h2_data(int32_t stream, const char* data, size_t size) = 0;
  // The peer ended the stream after DATA (END_STREAM on a DATA frame).
  virtual void on_h2_end(int32_t stream) = 0;
  // The stream is gone: `error_code` 0 when both sides finished, else the RST_STREAM or
  // connection error code (CANCEL = 8 for a cancelled call).
  virtual void on_h2_closed(int32_t stream, uint32_t error_code) = 0;
  // The peer sent GOAWAY: streams above `last_stream` were not processed.
  virtual void on_h2_goaway(int32_t last_stream, uint32_t error_code) = 0;
  // A header block whose decoded list exceeded `max_header_list_bytes` (its fields were
  // decoded, to keep HPACK in step, and dropped). By default: a block without fields, which
  // the owner refuses as malformed.
  virtual void on_h2_headers_too_large(int32_t stream, bool end_stream) {
    on_h2_headers(stream, {}, end_stream);
  }
  // The peer flooded the connection (empty frames): it ends with ENHANCE_YOUR_CALM.
  virtual void on_h2_flood(const char* what) { (void)what; }

 protected:
  ~h2_events() = default;
};

class h2_session {
 public:
  enum class role { server, client };

  struct settings {
    uint32_t max_concurrent_streams = 256;
    uint32_t initial_window = 65535;  // per stream; the connection window is 16 times that
    // Decoded header list size (names + values + 32 per field, as RFC 9113 counts it) above
    // which a block is reported by on_h2_headers_too_large; advertised in SETTINGS.
    uint32_t max_header_list_bytes = 64 * 1024;
    // Consecutive DATA frames with neither payload nor END_STREAM before ENHANCE_YOUR_CALM.
    uint32_t max_empty_frames = 1;
  };

  h2_session(role r, h2_events& events, settings s);
  h2_session(role r, h2_events& events) : h2_session(r, events, settings{}) {}
  ~h2_session();
  h2_session(const h2_session&) = delete;
  h2_session& operator=(const h2_session&) = delete;

  // Consumes bytes read from the peer; false on a protocol error (the owner sends what
  // output() still has, a GOAWAY among it, and closes).
  bool feed(const char* data, size_t size);

  // Appends the frames ready to go, until `out` holds `limit` bytes or more (the rest waits
  // for the next call); false when there were none.
  bool output(std::string& out, size_t limit = SIZE_MAX);
  // The same, straight into a connection's output buffer.
  bool output(byte_buffer& out, size_t limit);

  // Whether the connection still has work: open streams, or frames to send or receive.
  bool alive() const;

  // -- streams --
  // Client: opens a stream with a request; returns its id (< 0 on failure).
  int32_t submit_request(std::span<const h2_field> headers, bool end_stream);
  // Server: answers a stream (interim 1xx responses may come first, with end_stream false).
  bool submit_response(int32_t stream, std::span<const h2_field> headers, bool end_stream);
  // Queues body bytes; they go out as the peer's window allows.
  void send_data(int32_t stream, std::string_view data);
  // Ends the stream after its queued data, with trailers when `trailers` is not empty.
  void end_stream(int32_t stream, std::span<const h2_field> trailers = {});
  // Bytes queued on `stream` that the peer's window has not let out yet.
  size_t buffered(int32_t stream) const;
  // The owner forwarded `size` received bytes of `stream`: the peer may send that many more.
  void consume(int32_t stream, size_t size);
  // Resets a stream (CANCEL = 8, INTERNAL_ERROR = 2, REFUSED_STREAM = 7).
  void reset(int32_t stream, uint32_t error_code);

  // -- the connection --
  // Server: tells the client that no new streams will be accepted soon (graceful drain);
  // then goaway() with NO_ERROR once in-flight streams finish.
  void shutdown_notice();
  void goaway(uint32_t error_code);
  // The peer's limit on concurrent streams that we open (client side: when reached, another
  // connection is needed); meaningful once its SETTINGS arrived.
  uint32_t peer_max_concurrent_streams() const;
  bool peer_settings_received() const { return peer_settings_; }
  size_t open_streams() const;

  // Whether `prefix` (the first bytes of a connection) is, or may still become, the HTTP/2
  // client connection preface; `complete` is set once all 24 bytes matched.
  static bool matches_preface(std::string_view prefix, bool& complete);

 private:
  // A stream's body on its way out (the data provider's source, and the stream's user data).
  struct outgoing {
    std::string data;
    size_t offset = 0;
    bool end = false;
    bool deferred = false;  // the provider waits for data
    h2_field_list trailers;
  };
  struct callbacks;

  outgoing* outgoing_of(int32_t stream) const;
  outgoing* take_outgoing();
  void release_outgoing(outgoing* o);
  void resume(outgoing& o, int32_t stream);
  template <class Out>
  bool output_into(Out& out, size_t limit);
  struct nv_array;  // nghttp2_nv scratch, reused for every header block we submit
  nv_array& to_nv(std::span<const h2_field> fields);

  nghttp2_session* session_ = nullptr;
  h2_events& events_;
  role role_;
  h2_field_list incoming_;  // the header block being received (blocks never interleave)
  size_t incoming_bytes_ = 0;
  bool incoming_too_large_ = false;
  uint32_t max_header_list_bytes_;
  uint32_t max_empty_frames_;
  uint32_t empty_frames_ = 0;  // consecutive
  bool calmed_ = false;        // ended for a flood (reported once)
  // Body buffers: all the session made (as many as streams were ever open at once), and the
  // free ones.
  std::vector<std::unique_ptr<outgoing>> outgoing_;
  std::vector<outgoing*> free_outgoing_;
  // Requests submitted whose stream nghttp2 has not opened yet (it does when it sends their
  // HEADERS): until then their body buffer is found here, afterwards as the stream's data.
  std::vector<std::pair<int32_t, outgoing*>> unopened_;
  std::unique_ptr<nv_array> nv_;
  size_t open_ = 0;  // streams opened and not closed yet
  bool peer_settings_ = false;
};

}  // namespace am::net
