// Where the data path hands what it recorded to the control path (DESIGN.md §3: the data path
// records, the control path decides): outcome batches to a breaker, usage to a retry actor,
// load to the sidecar. In actors/ a sink is a one-way send to an actor's mailbox
// (actors/actor_sink.h); here it is only this interface, so net/ needs no CAF.
#pragma once

namespace am::net {

template <class T>
class sink {
 public:
  virtual ~sink() = default;
  // Called on a worker thread; must not block.
  virtual void deliver(T&& value) = 0;
};

}  // namespace am::net
