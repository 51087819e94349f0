// A byte tunnel: two sockets whose bytes are copied both ways, used for CONNECT and for
// protocol switches (WebSocket). Each end stops reading while its peer has a full buffer.
#pragma once

#include <string>

#include "net/connection.h"

namespace am::net {

class tunnel_end;

// Told when an outgoing tunnel end finishes connecting.
class tunnel_connect_events {
 public:
  virtual void on_tunnel_connected(tunnel_end& end, int error) = 0;

 protected:
  ~tunnel_connect_events() = default;
};

// Counts open tunnels (the worker: a drain waits for them, up to its deadline).
class tunnel_watcher {
 public:
  virtual void on_tunnel_opened() = 0;
  virtual void on_tunnel_closed() = 0;

 protected:
  ~tunnel_watcher() = default;
};

class tunnel_end final : public connection {
 public:
  // `waiter` (may be null) learns when a connecting end is connected.
  tunnel_end(event_loop& loop, int fd, bool connecting, tunnel_connect_events* waiter);
  // A socket taken from an HTTP connection: its unsent bytes go first, its unread ones are
  // forwarded once joined.
  tunnel_end(event_loop& loop, detached_socket socket);

  void forget_waiter() { waiter_ = nullptr; }

  // Bytes the previous owner of the socket had read but not handled; join() forwards them.
  void preload_input(std::string_view data) { in_.append(data); }

  // Joins two ends; bytes already received by either side (`pending`) are sent on.
  static void join(tunnel_end& a, tunnel_end& b);

  // Closes once everything queued for this end is written.
  void close_when_flushed();

  // Reports this end's life to `w` (opened now, closed when it closes): set on the client's
  // end of each tunnel, so that one tunnel counts once.
  void watch(tunnel_watcher* w);

 private:
  void on_data() override;
  void on_eof(int error) override;
  void on_drained() override;
  void on_connected(int error) override;
  void on_closed() override;

  tunnel_end* peer_ = nullptr;
  tunnel_connect_events* waiter_;
  tunnel_watcher* watcher_ = nullptr;
  bool closing_ = false;
};

}  // namespace am::net
