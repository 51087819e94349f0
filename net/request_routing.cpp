#include "net/request_routing.h"

#include "net/proxy_worker.h"
#include "policy/route_match.h"

namespace am::net {

namespace {

// True with probability percent/100.
bool sample(proxy_worker& worker, double percent) {
  if (percent <= 0) {
    return false;
  }
  return static_cast<double>(worker.random() % 1'000'000) < percent * 10'000;
}

// The key a consistent-hash service hashes a request by; empty when the request has none.
std::string_view service_hash_key(const config::hash_key_spec& spec, const message_head& head,
                                  std::string_view client_ip) {
  using source = config::hash_key_spec::source;
  std::string_view value;
  switch (spec.from) {
    case source::source_ip:
      return client_ip;
    case source::header:
      if (const auto* v = head.find(spec.name)) {
        value = *v;
      }
      break;
    case source::cookie:
      if (const auto* cookies = head.find("cookie")) {
        policy::cookie_value(*cookies, spec.name, value);
      }
      break;
  }
  return value;
}

void hash_by(route_decision& d, std::string_view key) {
  if (!key.empty()) {
    d.hashed = true;
    d.hash = policy::stable_hash(key);
  }
}

}  // namespace

route_decision decide_route(proxy_worker& worker, const route_service& svc,
                            const message_head& head, std::string_view path,
                            std::string_view client_ip) {
  route_decision d;
  d.subset = &svc.subsets[0];
  d.timeout_ms = svc.policy.timeout.count();
  d.retry = &svc.policy.retry;
  if (svc.policy.lb == config::lb_policy::consistent_hash) {
    hash_by(d, service_hash_key(svc.policy.hash_key, head, client_ip));
  }
  if (svc.policy.routes.empty()) {
    return d;
  }
  auto q = path.find('?');
  head_fields fields{head};
  policy::request_view view{head.method, path.substr(0, q),
                            q == std::string_view::npos ? std::string_view{} : path.substr(q + 1),
                            &fields};
  d.route = policy::match_route(svc.policy.routes, view);
  if (d.route == nullptr) {
    return d;
  }
  auto index = static_cast<size_t>(d.route - svc.policy.routes.data());
  const auto& r = *d.route;
  auto sticky = policy::sticky_key(r, view);
  hash_by(d, sticky);
  if (!r.targets.empty()) {
    auto target = policy::choose_target(r, sticky, worker.random());
    d.subset = &svc.subsets[svc.target_subsets[index][target]];
  }
  if (r.timeout_ms > 0) {
    d.timeout_ms = r.timeout_ms;
  }
  if (r.retry) {
    d.retry = &*r.retry;
  }
  if (sample(worker, r.fault.abort_percent)) {
    d.fault_abort_status = r.fault.abort_status;
  } else if (sample(worker, r.fault.delay_percent)) {
    d.fault_delay_ms = r.fault.delay_ms;
  }
  if (svc.mirror_subsets[index] != no_subset && sample(worker, r.mirror.percent)) {
    d.mirror = &svc.subsets[svc.mirror_subsets[index]];
  }
  return d;
}

}  // namespace am::net
