// Follows the endpoints under an etcd v3 key prefix on a thread of its own: Range lists
// them, Watch follows from the listing's revision + 1. When the stream breaks (etcd
// restarted, the revision was compacted) it lists again and watches from the new listing's
// revision: the listing replaces the whole view, so nothing is lost or counted twice. While
// etcd is unreachable the last view stays (nothing is published). No CAF here: `publish`
// receives each new view.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "config/model.h"

namespace grpc {
class ClientContext;
}

namespace am::actors {

class etcd_watch {
 public:
  using publish_fn = std::function<void(config::endpoint_table)>;

  etcd_watch(config::etcd_source_settings settings, publish_fn publish);
  ~etcd_watch();  // cancels the stream and joins the thread

 private:
  void run();
  bool wait(std::chrono::milliseconds d);  // false once stopping

  const config::etcd_source_settings settings_;
  const publish_fn publish_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  grpc::ClientContext* current_ = nullptr;  // the call in progress, for cancellation
  std::thread thread_;
};

}  // namespace am::actors
