#include "config/load_policy.h"

#include <re2/re2.h>

#include <algorithm>

#include "config/grpc_codes.h"
#include "config/load.h"
#include "config/syntax.h"

namespace am::config {

using detail::reader;

namespace {

// A compiled RE2, or null with an error at `path`.
std::shared_ptr<const re2::RE2> compile(reader& r, const std::string& path,
                                        const std::string& pattern) {
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<re2::RE2>(pattern, options);
  if (!re->ok()) {
    r.fail(path, "bad regular expression: " + re->error());
    return nullptr;
  }
  return re;
}

void read_percent(reader& r, const std::string& key, double& out) {
  auto n = r.get(key);
  if (!n) {
    return;
  }
  double v = -1;
  if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || v < 0 || v > 100) {
    r.fail(r.child_path(key), "must be a number 0..100");
    return;
  }
  out = v;
}

void read_ms(reader& r, const std::string& key, int64_t& out, millis min = millis{1}) {
  millis v{out};
  r.read_duration(key, v, min);
  out = v.count();
}

void read_backoff(reader r, backoff_spec& b) {
  if (!r.is_map()) {
    return;
  }
  read_ms(r, "base", b.base_ms);
  read_ms(r, "max", b.max_ms);
  if (b.max_ms < b.base_ms) {
    r.fail(r.child_path("max"), "must be at least base");
  }
  r.reject_unknown_keys();
}

void read_retry_conditions(reader& r, retry_spec& s) {
  auto on = r.get("on");
  if (!on) {
    return;
  }
  auto path = r.child_path("on");
  if (!on.IsSequence()) {
    r.fail(path,
           "must be a list of connect_failure, reset, timeout, 5xx, gateway_error or "
           "gRPC status names");
    return;
  }
  s.on_connect_failure = false;
  for (size_t i = 0; i < on.size(); ++i) {
    auto v = on[i].IsScalar() ? on[i].Scalar() : std::string{};
    if (v == "connect_failure") {
      s.on_connect_failure = true;
    } else if (v == "reset") {
      s.on_reset = true;
    } else if (v == "timeout") {
      s.on_timeout = true;
    } else if (v == "5xx") {
      s.on_5xx = true;
    } else if (v == "gateway_error") {
      s.on_gateway_error = true;
    } else if (auto code = grpc_code_by_name(v); code && *code != 0) {
      s.grpc_statuses.push_back(*code);  // a gRPC call that ended with this status
    } else {
      r.fail(path + "[" + std::to_string(i) + "]",
             "unknown condition '" + v +
                 "' (connect_failure, reset, timeout, 5xx, gateway_error, or a gRPC status "
                 "such as unavailable, resource_exhausted)");
    }
  }
}

void read_retry(reader r, retry_spec& s) {
  if (!r.is_map()) {
    return;
  }
  r.read_uint("attempts", s.attempts, 1, 10);
  read_ms(r, "per_try_timeout", s.per_try_timeout_ms);
  read_backoff(r.child("backoff"), s.backoff);
  read_retry_conditions(r, s);
  auto statuses = r.get("statuses");
  if (statuses) {
    if (!statuses.IsSequence()) {
      r.fail(r.child_path("statuses"), "must be a list of status codes");
    } else {
      for (size_t i = 0; i < statuses.size(); ++i) {
        int code = 0;
        if (!statuses[i].IsScalar() || !YAML::convert<int>::decode(statuses[i], code) ||
            code < 100 || code > 599) {
          r.fail(r.child_path("statuses") + "[" + std::to_string(i) + "]", "must be 100..599");
        } else {
          s.statuses.push_back(code);
        }
      }
    }
  }
  auto headers = r.get("headers");
  if (headers) {
    if (!headers.IsSequence()) {
      r.fail(r.child_path("headers"), "must be a list of {name, regex}");
    } else {
      for (size_t i = 0; i < headers.size(); ++i) {
        reader h{headers[i], r.child_path("headers") + "[" + std::to_string(i) + "]", r.errors()};
        header_rule rule;
        std::string pattern;
        h.read_string("name", rule.name);
        h.read_string("regex", pattern);
        if (rule.name.empty()) {
          h.fail(h.child_path("name"), "is required");
        }
        rule.pattern = compile(h, h.child_path("regex"), pattern);
        h.reject_unknown_keys();
        if (rule.pattern) {
          s.header_rules.push_back(std::move(rule));
        }
      }
    }
  }
  r.read_bool("non_idempotent", s.non_idempotent);
  r.read_uint("max_body_bytes", s.max_body_bytes, 0, 16 * 1024 * 1024);
  r.reject_unknown_keys();
}

void read_retry_budget(reader r, retry_budget_spec& s) {
  if (!r.is_map()) {
    return;
  }
  double percent = s.ratio * 100;
  read_percent(r, "percent", percent);
  s.ratio = percent / 100;
  r.read_uint("min_per_second", s.min_per_second, 0, 100000);
  read_ms(r, "window", s.window_ms, millis{1000});
  r.reject_unknown_keys();
}

// `locality: {prefer: [zone, region], failover: [{from: ZONE, to: [ZONE...]}],
// overprovisioning: 1.4}`.
void read_locality_spec(reader r, locality_spec& s) {
  if (!r.is_map()) {
    return;
  }
  if (r.get("prefer")) {
    std::vector<std::string> levels;
    r.read_string_list("prefer", levels);
    s.prefer.clear();
    for (size_t i = 0; i < levels.size(); ++i) {
      const auto& l = levels[i];
      if (l == "node") {
        s.prefer.push_back(locality_level::node);
      } else if (l == "zone") {
        s.prefer.push_back(locality_level::zone);
      } else if (l == "region") {
        s.prefer.push_back(locality_level::region);
      } else {
        r.fail(r.child_path("prefer") + "[" + std::to_string(i) + "]",
               "must be node, zone or region");
      }
    }
  }
  auto failover = r.get("failover");
  if (failover && !failover.IsSequence()) {
    r.fail(r.child_path("failover"), "must be a list of {from: ZONE, to: [ZONE, ...]}");
  } else if (failover) {
    for (size_t i = 0; i < failover.size(); ++i) {
      reader rule{failover[i], r.child_path("failover") + "[" + std::to_string(i) + "]",
                  r.errors()};
      zone_failover f;
      rule.read_string("from", f.from);
      rule.read_string_list("to", f.to);
      if (f.from.empty() || f.to.empty()) {
        rule.fail(rule.path(), "needs from (a zone) and to (a list of zones)");
      }
      rule.reject_unknown_keys();
      s.failover.push_back(std::move(f));
    }
  }
  if (auto n = r.get("overprovisioning")) {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || v < 1 || v > 10) {
      r.fail(r.child_path("overprovisioning"), "must be a number 1..10");
    } else {
      s.overprovisioning = v;
    }
  }
  r.reject_unknown_keys();
}

void read_breaker(reader r, std::optional<breaker_spec>& out) {
  if (!r.is_map() || !r.exists()) {
    return;
  }
  breaker_spec s;
  r.read_uint("consecutive_failures", s.consecutive_failures, 0, 100000);
  double percent = 0;
  read_percent(r, "failure_percent", percent);
  s.failure_ratio = percent / 100;
  r.read_uint("min_requests", s.min_requests, 1, 1000000);
  read_ms(r, "window", s.window_ms, millis{100});
  read_ms(r, "open", s.open_ms);
  r.read_uint("half_open_probes", s.half_open_probes, 1, 1000);
  if (s.consecutive_failures == 0 && s.failure_ratio == 0) {
    r.fail(r.path(), "needs consecutive_failures or failure_percent");
  }
  r.reject_unknown_keys();
  out = s;
}

void read_limits(reader r, concurrency_limits& l) {
  if (!r.is_map()) {
    return;
  }
  r.read_uint("max_connections", l.max_connections, 0, 1000000);
  r.read_uint("max_pending", l.max_pending, 0, 1000000);
  r.read_uint("max_requests", l.max_requests, 0, 1000000);
  r.read_uint("max_retries", l.max_retries, 0, 1000000);
  r.reject_unknown_keys();
}

void read_outlier(reader r, std::optional<outlier_spec>& out) {
  if (!r.is_map() || !r.exists()) {
    return;
  }
  outlier_spec s;
  r.read_uint("consecutive_5xx", s.consecutive_5xx, 0, 100000);
  r.read_uint("consecutive_gateway_errors", s.consecutive_gateway_errors, 0, 100000);
  read_ms(r, "base_ejection", s.base_ejection_ms);
  read_ms(r, "max_ejection", s.max_ejection_ms);
  r.read_uint("max_ejection_percent", s.max_ejection_percent, 0, 100);
  read_ms(r, "interval", s.interval_ms, millis{10});
  auto sr = r.child("success_rate");
  if (sr.is_map() && sr.exists()) {
    s.success_rate_stdev_factor = 1.9;
    auto n = sr.get("stdev_factor");
    if (n && (!n.IsScalar() || !YAML::convert<double>::decode(n, s.success_rate_stdev_factor) ||
              s.success_rate_stdev_factor <= 0)) {
      sr.fail(sr.child_path("stdev_factor"), "must be a positive number");
    }
    sr.read_uint("min_hosts", s.success_rate_min_hosts, 1, 100000);
    sr.read_uint("request_volume", s.success_rate_request_volume, 1, 100000000);
    sr.reject_unknown_keys();
  }
  auto fp = r.child("failure_percentage");
  if (fp.is_map() && fp.exists()) {
    fp.read_uint("threshold", s.failure_percentage_threshold, 1, 100);
    if (s.failure_percentage_threshold == 0) {
      fp.fail(fp.child_path("threshold"), "is required");
    }
    fp.read_uint("min_hosts", s.failure_percentage_min_hosts, 1, 100000);
    fp.read_uint("request_volume", s.failure_percentage_request_volume, 1, 100000000);
    fp.reject_unknown_keys();
  }
  if (s.max_ejection_ms < s.base_ejection_ms) {
    r.fail(r.child_path("max_ejection"), "must be at least base_ejection");
  }
  r.reject_unknown_keys();
  out = s;
}

// {exact: v} | {prefix: v} | {regex: v} | {present: true}
bool read_string_match(reader r, string_match& m) {
  if (!r.is_map()) {
    return false;
  }
  int kinds = 0;
  for (auto [key, how] : {std::pair{"exact", string_match::kind::exact},
                          std::pair{"prefix", string_match::kind::prefix},
                          std::pair{"regex", string_match::kind::regex}}) {
    if (r.get(key)) {
      ++kinds;
      m.how = how;
      r.read_string(key, m.value);
    }
  }
  bool present = false;
  r.read_bool("present", present);
  if (present) {
    ++kinds;
    m.how = string_match::kind::present;
  }
  if (kinds != 1) {
    r.fail(r.path(), "needs exactly one of exact, prefix, regex, present");
    return false;
  }
  if (m.how == string_match::kind::regex) {
    m.regex = compile(r, r.child_path("regex"), m.value);
    return m.regex != nullptr;
  }
  return true;
}

// [{name: N, exact|prefix|regex|present: ...}]
void read_field_matches(reader& r, const std::string& key, std::vector<field_match>& out) {
  auto list = r.get(key);
  if (!list) {
    return;
  }
  if (!list.IsSequence()) {
    r.fail(r.child_path(key), "must be a list of {name, exact|prefix|regex|present}");
    return;
  }
  for (size_t i = 0; i < list.size(); ++i) {
    reader f{list[i], r.child_path(key) + "[" + std::to_string(i) + "]", r.errors()};
    field_match fm;
    f.read_string("name", fm.name);
    if (fm.name.empty()) {
      f.fail(f.child_path("name"), "is required");
    }
    f.get("name");
    if (read_string_match(f, fm.match)) {
      out.push_back(std::move(fm));
    }
  }
}

void read_labels(reader r, label_set& out) {
  auto n = r.node();
  if (!n) {
    return;
  }
  if (!n.IsMap()) {
    r.fail(r.path(), "must be a mapping of labels");
    return;
  }
  for (const auto& kv : n) {
    out[kv.first.Scalar()] = kv.second.IsScalar() ? kv.second.Scalar() : std::string{};
  }
}

// The sequence `list` (at `key` of `r`) as HTTP tokens (header names, methods); each one
// that is not fails with its own index and `why`.
void read_tokens(reader& r, const std::string& key, const YAML::Node& list, const char* why,
                 std::vector<std::string>& out) {
  for (size_t i = 0; i < list.size(); ++i) {
    auto token = list[i].IsScalar() ? list[i].Scalar() : std::string{};
    if (!is_http_token(token)) {
      r.fail(r.child_path(key) + "[" + std::to_string(i) + "]", why);
    }
    out.push_back(std::move(token));
  }
}

void read_header_ops(reader r, header_ops& ops) {
  if (!r.is_map()) {
    return;
  }
  auto set = r.get("set");
  if (set) {
    if (!set.IsMap()) {
      r.fail(r.child_path("set"), "must be a mapping of field names to values");
    } else {
      for (const auto& kv : set) {
        auto name = kv.first.Scalar();
        auto value = kv.second.IsScalar() ? kv.second.Scalar() : std::string{};
        auto path = r.child_path("set") + "." + name;
        if (!is_http_token(name)) {
          r.fail(path, "is no valid header name (an HTTP token)");
        } else if (!kv.second.IsScalar() || !is_http_field_value(value)) {
          r.fail(path, "must be a header value: no CR, LF, NUL or other control characters");
        }
        ops.set.emplace_back(std::move(name), std::move(value));
      }
    }
  }
  auto remove = r.get("remove");
  if (remove) {
    if (!remove.IsSequence()) {
      r.fail(r.child_path("remove"), "must be a list of field names");
    } else {
      read_tokens(r, "remove", remove, "is no valid header name (an HTTP token)", ops.remove);
    }
  }
  r.reject_unknown_keys();
}

void read_fault(reader r, fault_spec& f) {
  if (!r.is_map()) {
    return;
  }
  auto delay = r.child("delay");
  if (delay.is_map() && delay.exists()) {
    read_percent(delay, "percent", f.delay_percent);
    read_ms(delay, "duration", f.delay_ms);
    delay.reject_unknown_keys();
  }
  auto abort = r.child("abort");
  if (abort.is_map() && abort.exists()) {
    read_percent(abort, "percent", f.abort_percent);
    abort.read_uint("status", f.abort_status, 200, 599);
    abort.reject_unknown_keys();
  }
  r.reject_unknown_keys();
}

void read_route(reader r, route_spec& route) {
  if (!r.is_map()) {
    return;
  }
  r.read_string("name", route.name);
  auto match = r.child("match");
  if (match.is_map() && match.exists()) {
    auto path = match.child("path");
    if (path.exists()) {
      string_match m;
      if (read_string_match(path, m)) {
        route.path = m;
      }
    }
    auto methods = match.get("methods");
    if (methods && methods.IsSequence()) {
      read_tokens(match, "methods", methods, "is no valid method (an HTTP token such as GET)",
                  route.methods);
    } else if (methods) {
      match.fail(match.child_path("methods"), "must be a list of methods");
    }
    read_field_matches(match, "headers", route.headers);
    read_field_matches(match, "query", route.query);
    match.reject_unknown_keys();
  }
  auto targets = r.get("targets");
  if (targets) {
    if (!targets.IsSequence()) {
      r.fail(r.child_path("targets"), "must be a list of {subset, weight}");
    } else {
      uint64_t total = 0;
      for (size_t i = 0; i < targets.size(); ++i) {
        reader t{targets[i], r.child_path("targets") + "[" + std::to_string(i) + "]", r.errors()};
        route_target target;
        read_labels(t.child("subset"), target.subset);
        t.read_uint("weight", target.weight, 0, 1000000);
        t.reject_unknown_keys();
        total += target.weight;
        route.targets.push_back(std::move(target));
      }
      if (total == 0) {
        r.fail(r.child_path("targets"), "weights must not all be 0");
      }
    }
  }
  auto hash = r.child("hash");
  if (hash.is_map() && hash.exists()) {
    hash.read_string("header", route.hash_header);
    hash.read_string("cookie", route.hash_cookie);
    hash.reject_unknown_keys();
  }
  read_header_ops(r.child("request_headers"), route.request_headers);
  read_header_ops(r.child("response_headers"), route.response_headers);
  read_fault(r.child("fault"), route.fault);
  auto mirror = r.child("mirror");
  if (mirror.is_map() && mirror.exists()) {
    read_labels(mirror.child("subset"), route.mirror.subset);
    read_percent(mirror, "percent", route.mirror.percent);
    mirror.reject_unknown_keys();
  }
  auto retry = r.child("retry");
  if (retry.exists()) {
    retry_spec s;
    read_retry(retry, s);
    route.retry = s;
  }
  read_ms(r, "timeout", route.timeout_ms);
  r.reject_unknown_keys();
}

}  // namespace

void read_service_policies(reader& r, service& svc) {
  std::string protocol;
  r.read_string("protocol", protocol);
  if (protocol == "http1") {
    svc.protocol = app_protocol::http1;
  } else if (protocol == "http2") {
    svc.protocol = app_protocol::http2;
  } else if (protocol == "grpc") {
    svc.protocol = app_protocol::grpc;
  } else if (!protocol.empty() && protocol != "auto") {
    r.fail(r.child_path("protocol"), "must be auto, http1, http2 or grpc");
  }
  r.read_duration("connect_timeout", svc.connect_timeout, millis{1});
  r.read_duration("idle_timeout", svc.idle_timeout, millis{1});
  r.read_ipv4_list("addresses", svc.addresses);
  r.read_port_list("ports", svc.ports);
  r.read_bool("export", svc.exported);
  auto retry = r.child("retry");
  if (retry.exists()) {
    read_retry(retry, svc.retry);
  }
  read_retry_budget(r.child("retry_budget"), svc.retry_budget);
  read_locality_spec(r.child("locality"), svc.locality);
  read_breaker(r.child("breaker"), svc.breaker);
  read_limits(r.child("limits"), svc.limits);
  read_outlier(r.child("outlier"), svc.outlier);
  auto routes = r.get("routes");
  if (routes) {
    if (!routes.IsSequence()) {
      r.fail(r.child_path("routes"), "must be a list of routes");
    } else if (routes.size() > max_routes_per_service) {
      r.fail(r.child_path("routes"), "has " + std::to_string(routes.size()) + " routes; at most " +
                                         std::to_string(max_routes_per_service) + " are accepted");
    } else {
      for (size_t i = 0; i < routes.size(); ++i) {
        route_spec route;
        read_route(
            reader{routes[i], r.child_path("routes") + "[" + std::to_string(i) + "]", r.errors()},
            route);
        if (route.name.empty()) {
          route.name = "route-" + std::to_string(i);
        }
        svc.routes.push_back(std::move(route));
      }
    }
  }
  auto access = r.child("access");
  if (access.is_map() && access.exists()) {
    access.read_string_list("allow", svc.access.allow);
    access.read_string_list("deny", svc.access.deny);
    for (const auto* list : {&svc.access.allow, &svc.access.deny}) {
      auto key = list == &svc.access.allow ? "allow" : "deny";
      for (size_t i = 0; i < list->size(); ++i) {
        if (!valid_service_name((*list)[i])) {
          access.fail(access.child_path(key) + "[" + std::to_string(i) + "]",
                      "is no service name (1-63 letters, digits, '-', '.', '_')");
        }
      }
    }
    access.reject_unknown_keys();
  }
}

}  // namespace am::config
