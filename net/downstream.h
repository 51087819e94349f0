// What the worker knows of a client connection, whatever protocol it speaks.
#pragma once

#include <netinet/in.h>

#include <string>

namespace am::net {

// Where a client connection comes from and, when it was intercepted (iptables redirected it
// to the sidecar, or it reached the inbound listener in transparent mode), where it goes: to
// `destination`, whatever the Host of its requests says.
struct client_origin {
  std::string ip;
  bool intercepted = false;
  sockaddr_in destination{};
  std::string destination_key;  // "ip:port" of `destination`, made once per connection
};

class downstream {
 public:
  // Finishes what is in flight, takes nothing new, then closes (graceful drain).
  virtual void drain() = 0;

 protected:
  ~downstream() = default;
};

}  // namespace am::net
