// What the worker knows of a client connection, whatever protocol it speaks.
#pragma once

namespace am::net {

class downstream {
 public:
  // Finishes what is in flight, takes nothing new, then closes (graceful drain).
  virtual void drain() = 0;

 protected:
  ~downstream() = default;
};

}  // namespace am::net
