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

}  // namespace

route_decision decide_route(proxy_worker& worker, const route_service& svc,
                            const message_head& head, std::string_view path) {
  route_decision d;
  d.subset = &svc.subsets[0];
  d.timeout_ms = svc.policy.timeout.count();
  d.retry = &svc.policy.retry;
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
  if (!r.targets.empty()) {
    auto target = policy::choose_target(r, policy::sticky_key(r, view), worker.random());
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
