#include "actors/k8s_watch.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>

#include "actors/log.h"

namespace am::actors {

namespace {

constexpr auto first_backoff = std::chrono::milliseconds{100};
constexpr auto max_backoff = std::chrono::milliseconds{5000};
// A Retry-After the API server asks for is honoured up to this.
constexpr auto max_retry_after = std::chrono::seconds{60};
// The server ends a watch after this long; we then resume from the last resourceVersion.
constexpr long watch_seconds = 300;

std::string collection_url(const config::kubernetes_settings& s, const std::string& group_version,
                           const std::string& plural) {
  auto base = s.api;
  while (!base.empty() && base.back() == '/') {
    base.pop_back();
  }
  if (s.namespace_.empty()) {
    return base + "/" + group_version + "/" + plural;
  }
  return base + "/" + group_version + "/namespaces/" + s.namespace_ + "/" + plural;
}

// Read at every request: the kubelet rotates projected service-account tokens.
std::string read_token(const std::string& path) {
  std::ifstream in{path};
  std::ostringstream text;
  text << in.rdbuf();
  auto token = text.str();
  while (!token.empty() && (token.back() == '\n' || token.back() == '\r')) {
    token.pop_back();
  }
  return token;
}

}  // namespace

struct k8s_watch::transfer {
  k8s_watch* owner;
  CURL* handle;
  const std::function<bool(const char*, size_t)>* on_data;
  const std::function<void()>* on_ok;

  // At the end of the head: a 200 means the server answers (a watch may then stay quiet).
  static size_t header(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    if (size * n == 2 && data[0] == '\r') {
      long status = 0;
      curl_easy_getinfo(t->handle, CURLINFO_RESPONSE_CODE, &status);
      if (status == 200) {
        (*t->on_ok)();
      }
    }
    return size * n;
  }

  static size_t write(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<transfer*>(user);
    return (*t->on_data)(data, size * n) ? size * n : 0;  // 0 aborts the transfer
  }

  static int progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
    return static_cast<transfer*>(user)->owner->stopping() ? 1 : 0;
  }
};

k8s_watch::k8s_watch(config::kubernetes_settings settings, std::string group_version,
                     std::string plural, publish_fn publish)
    : settings_(std::move(settings)),
      url_(collection_url(settings_, group_version, plural)),
      publish_(std::move(publish)) {
  static std::once_flag curl_init;
  std::call_once(curl_init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  thread_ = std::thread{[this] { run(); }};
}

k8s_watch::~k8s_watch() {
  {
    std::lock_guard<std::mutex> lock{mutex_};
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

bool k8s_watch::stopping() {
  std::lock_guard<std::mutex> lock{mutex_};
  return stopping_;
}

bool k8s_watch::wait(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> lock{mutex_};
  return !wake_.wait_for(lock, d, [this] { return stopping_; });
}

long k8s_watch::get(const std::string& url, const std::function<bool(const char*, size_t)>& on_data,
                    const std::function<void()>& on_ok, long timeout_seconds, std::string& error) {
  CURL* curl = curl_easy_init();
  if (!curl) {
    error = "cannot create a curl handle";
    return 0;
  }
  transfer t{this, curl, &on_data, &on_ok};
  curl_slist* headers = curl_slist_append(nullptr, "Accept: application/json");
  auto token = read_token(settings_.token_file);
  if (!token.empty()) {
    headers = curl_slist_append(headers, ("Authorization: Bearer " + token).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &transfer::write);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &transfer::header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, &transfer::progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &t);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 3000L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT, timeout_seconds);
  if (!settings_.ca_file.empty()) {
    curl_easy_setopt(curl, CURLOPT_CAINFO, settings_.ca_file.c_str());
  }
  auto rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_off_t retry_after = 0;
  curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after);
  retry_after_ = std::min(max_retry_after, std::chrono::seconds{retry_after});
  if (rc != CURLE_OK && rc != CURLE_WRITE_ERROR) {
    error = curl_easy_strerror(rc);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return status;
}

std::string k8s_watch::describe(const char* what, long status, const std::string& error) {
  if (!error.empty()) {
    return std::string{what} + ": " + error;
  }
  auto text = std::string{what} + " answered HTTP " + std::to_string(status);
  switch (status) {
    case 401:
      return text + " (Unauthorized: check token_file)";
    case 403:
      return text + " (Forbidden: check the service account's RBAC)";
    case 429:
      return text + " (Too Many Requests)";
    default:
      return text;
  }
}

void k8s_watch::run() {
  config::k8s_object_set objects;
  std::string resource_version;  // empty: list first
  auto backoff = first_backoff;
  bool reachable = true;
  std::string last_failure;
  std::function<void()> answered = [&] {
    if (!reachable) {
      log_info("kubernetes: " + url_ + " reachable again");
      reachable = true;
      last_failure.clear();
    }
    backoff = first_backoff;
  };
  auto failed = [&](const std::string& why) {
    if (reachable || why != last_failure) {  // once per kind of failure, not per retry
      log_warn("kubernetes: " + url_ + ": " + why + "; keeping the last known objects, retrying");
      reachable = false;
      last_failure = why;
    }
    // The server's Retry-After (429, 503) when it asks for longer than the backoff.
    wait(std::max<std::chrono::milliseconds>(backoff, retry_after_));
    backoff = std::min(max_backoff, backoff * 2);
  };
  while (wait(std::chrono::milliseconds{0})) {
    std::string error;
    if (resource_version.empty()) {
      std::string body;
      auto status = get(
          url_, [&](const char* p, size_t n) { return body.append(p, n), true; }, answered, 30,
          error);
      if (status != 200) {
        failed(describe("list", status, error));
        continue;
      }
      if (!objects.reset(body, resource_version, error) || resource_version.empty()) {
        failed("unreadable list: " + (error.empty() ? "no resourceVersion" : error));
        resource_version.clear();
        continue;
      }
      publish_(objects);
    }
    auto watch_url =
        url_ + "?watch=1&allowWatchBookmarks=true&timeoutSeconds=" + std::to_string(watch_seconds) +
        "&resourceVersion=" + resource_version;
    std::string pending;  // a line not yet complete
    bool expired = false;
    auto status = get(
        watch_url,
        [&](const char* p, size_t n) {
          pending.append(p, n);
          size_t start = 0;
          for (auto nl = pending.find('\n'); nl != std::string::npos;
               nl = pending.find('\n', start)) {
            auto line = pending.substr(start, nl - start);
            start = nl + 1;
            if (line.find_first_not_of(" \r\t") == std::string::npos) {
              continue;
            }
            std::string why;
            switch (objects.apply(line, resource_version, why)) {
              case config::k8s_object_set::event::changed:
                publish_(objects);
                break;
              case config::k8s_object_set::event::bookmark:
                break;
              case config::k8s_object_set::event::expired:
                expired = true;
                return false;
              case config::k8s_object_set::event::error:
                log_warn("kubernetes: " + url_ + ": " + why);
                break;
            }
          }
          pending.erase(0, start);
          return true;
        },
        answered, watch_seconds + 30, error);
    if (expired || status == 410) {
      log_info("kubernetes: " + url_ + ": resourceVersion " + resource_version +
               " expired (410 Gone); listing again");
      resource_version.clear();
    } else if (status != 200 && !stopping()) {
      failed(describe("watch", status, error));
    } else {
      wait(first_backoff);  // the server ended the watch: resume, without spinning
    }
  }
}

}  // namespace am::actors
