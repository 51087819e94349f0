#include "config/etcd_endpoints.h"

#include "config/load.h"

namespace am::config {

void etcd_endpoint_view::reset(const std::vector<etcd_change>& listing,
                               std::vector<std::string>& errors) {
  by_key_.clear();
  apply(listing, errors);
}

void etcd_endpoint_view::apply(const std::vector<etcd_change>& events,
                               std::vector<std::string>& errors) {
  for (const auto& e : events) {
    if (e.deleted) {
      by_key_.erase(e.key);
      continue;
    }
    std::string error;
    if (!put(e.key, e.value, error)) {
      errors.push_back(e.key + ": " + error);
    }
  }
}

bool etcd_endpoint_view::put(const std::string& key, const std::string& value, std::string& error) {
  if (key.compare(0, prefix_.size(), prefix_) != 0) {
    error = "outside the prefix " + prefix_;
    return false;
  }
  auto rest = key.substr(prefix_.size());
  auto slash = rest.find('/');
  if (slash == 0 || slash == std::string::npos || slash + 1 == rest.size()) {
    error = "keys are " + prefix_ + "<service>/<endpoint-id>";
    return false;
  }
  auto parsed = parse_endpoint(value, "value");
  if (!parsed.ok()) {
    error = parsed.errors.front().to_string();
    return false;
  }
  by_key_[key] = {rest.substr(0, slash), std::move(*parsed.value)};
  return true;
}

endpoint_table etcd_endpoint_view::table() const {
  endpoint_table out;
  for (const auto& [key, entry] : by_key_) {
    out[entry.first].push_back(entry.second);
  }
  return out;
}

std::string etcd_prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

}  // namespace am::config
