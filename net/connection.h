// A non-blocking TCP connection on an event loop: buffered reads and writes, read pausing for
// backpressure, and deferred deletion, optionally over TLS (then the buffers hold plaintext and
// the handshake comes first). Protocol classes derive from it.
#pragma once

#include <sys/types.h>

#include <cerrno>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "net/byte_buffer.h"
#include "net/event_loop.h"
#include "net/tls.h"

namespace am::net {

// A socket taken out of its connection for another one (a tunnel, an HTTP/2 session), with
// its TLS session and the bytes read but not handled and queued but not written.
struct detached_socket {
  int fd = -1;
  std::unique_ptr<tls_stream> tls;
  std::string unread;
  std::string unsent;
};

class connection : public io_handler, private write_batch::writer {
 public:
  // Above this much unsent output the side feeding this connection stops reading.
  static constexpr size_t high_watermark = 256 * 1024;

  // With `tls`, bytes cross the socket through it: a connecting client's on_connected() comes
  // after the handshake, a server's first on_data() after it too.
  connection(event_loop& loop, int fd, bool connecting, std::unique_ptr<tls_stream> tls = {});
  ~connection() override;

  void on_io(uint32_t events) final;

  bool closed() const { return fd_ < 0; }
  bool over_tls() const { return tls_ != nullptr; }
  size_t pending_output() const { return out_.size(); }
  bool over_high_watermark() const { return out_.size() > high_watermark; }

  // Queues `data`; it is written when the loop finishes the current batch of events, together
  // with whatever else the batch queues for this socket.
  void send(std::string_view data);

  void on_flush() final;

  // Stops or restarts reading from the socket (backpressure, or waiting for a response).
  void pause_reading(bool paused);

  // Closes the socket and hands the object to the loop for deletion at the end of the batch.
  // Safe to call more than once and from inside the object's own handlers.
  void close();

  // Takes the socket out of this object (for a tunnel, an HTTP/2 session); the object is then
  // closed without the fd.
  detached_socket detach();

  // Sends FIN once queued output is written (the caller waits for on_drained()).
  void shutdown_write();

 protected:
  // New bytes are in in_.
  virtual void on_data() = 0;
  // The peer closed its side (read returned 0) or the socket failed (`error` != 0).
  virtual void on_eof(int error) = 0;
  // Output fully written.
  virtual void on_drained() {}
  // A non-blocking connect (and TLS handshake) finished; `error` is 0 on success.
  virtual void on_connected(int /*error*/) {}
  // Called once by close(), before the object is retired.
  virtual void on_closed() {}
  // Called before queued output is written (end of the loop's batch, after request_output()):
  // a codec that frames lazily (HTTP/2) queues its frames here.
  virtual void produce_output() {}
  // Asks for produce_output() at the end of the batch.
  void request_output();

  // on_eof/on_connected's error for a failed TLS handshake or record (describe() says why).
  static constexpr int tls_failure = EPROTO;
  // What `error` (from on_eof or on_connected) means: the system's words, or TLS's reason.
  std::string describe(int error) const;

  event_loop& loop_;
  byte_buffer in_;
  byte_buffer out_;

 private:
  void handle_read();
  void handle_write();
  // The outcome of the write on_flush() queued on the loop's batch.
  void on_written(ssize_t result) override;
  // The queued write must go before out_ changes or the socket closes.
  void submit_queued_write() {
    if (write_queued_) {
      loop_.submit_writes();
    }
  }
  void update_interest();
  void set_interest(uint32_t want);
  // Connected (and through the TLS handshake): output queued meanwhile goes, then on_connected.
  void established(int error);
  void continue_handshake();
  // recv/send, or TLS's read/write: > 0 bytes, 0 at the peer's close, -1 with errno set.
  ssize_t receive(char* data, size_t size);
  ssize_t transmit(const char* data, size_t size);
  // Not connecting and not in the TLS handshake: bytes may flow.
  bool ready() const { return !connecting_ && !handshaking_; }

  int fd_;
  bool connecting_;
  const bool outgoing_;  // we connected (a TLS client), rather than accepted
  std::unique_ptr<tls_stream> tls_;
  bool handshaking_ = false;
  // TLS holds decrypted bytes the socket will not announce: read them at the end of the batch.
  bool read_again_ = false;
  bool read_paused_ = false;
  bool flush_queued_ = false;
  bool write_queued_ = false;  // out_ is in the loop's write batch
  uint32_t interest_ = 0;
};

}  // namespace am::net
