// A net::sink that is a one-way send of `(Atom, T)` to an actor: how workers hand outcome
// batches, usage and load reports to the actors that decide.
#pragma once

#include <memory>
#include <utility>

#include <caf/send.hpp>

#include "net/sink.h"

namespace am::actors {

template <class T, class Atom, class Handle>
class actor_sink final : public net::sink<T> {
 public:
  explicit actor_sink(Handle receiver) : receiver_(std::move(receiver)) {}
  void deliver(T&& value) override { caf::anon_send(receiver_, Atom::value, std::move(value)); }

 private:
  Handle receiver_;
};

template <class T, class Atom, class Handle>
std::shared_ptr<net::sink<T>> make_actor_sink(Handle receiver) {
  return std::make_shared<actor_sink<T, Atom, Handle>>(std::move(receiver));
}

}  // namespace am::actors
