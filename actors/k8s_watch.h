// Lists and watches one kind of Kubernetes object over the API server's HTTP API, on a
// thread of its own (libcurl): GET the list, then GET ?watch=1 from its resourceVersion with
// bookmarks, one JSON event per line. A 410 Gone (as a status or as an ERROR event) means the
// resourceVersion expired: list again. A broken stream resumes from the last resourceVersion
// seen; while the API server is unreachable the last view stays (nothing is published).
// No CAF here: `publish` receives the object set after each change.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "config/k8s_objects.h"
#include "config/model.h"

namespace am::actors {

class k8s_watch {
 public:
  using publish_fn = std::function<void(const config::k8s_object_set&)>;

  // `group_version` is e.g. "apis/discovery.k8s.io/v1", `plural` e.g. "endpointslices".
  k8s_watch(config::kubernetes_settings settings, std::string group_version, std::string plural,
            publish_fn publish);
  ~k8s_watch();  // aborts the transfer in progress and joins the thread

 private:
  struct transfer;

  void run();
  bool wait(std::chrono::milliseconds d);  // false once stopping
  bool stopping();
  // GET `url`; the body goes to `on_data`, and `on_ok` runs once a 200's head is in. Returns
  // the HTTP status, 0 when there was none; `retry_after_` holds the answer's Retry-After
  // (429, 503), else 0.
  long get(const std::string& url, const std::function<bool(const char*, size_t)>& on_data,
           const std::function<void()>& on_ok, long timeout_seconds, std::string& error);
  // Why a request failed, for the log: the status with what it usually means here.
  static std::string describe(const char* what, long status, const std::string& error);

  const config::kubernetes_settings settings_;
  const std::string url_;
  const publish_fn publish_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::chrono::seconds retry_after_{0};  // the run thread's
  std::thread thread_;
};

}  // namespace am::actors
