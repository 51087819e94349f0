"""Traffic policy through the real sidecar: retries (conditions, methods, budget, per-try
timeouts), routes (matches, weighted and sticky splits, A/B, header edits, faults) and
service-level access control between two sidecars."""

import collections
import http.client
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Mesh, Upstream, curl, eventually, run  # noqa: E402

NODE = """
name: test
roles: [sidecar, discovery, commander]
sidecar:
  service_name: %(me)s
  workers: 1
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  inbound: {{address: 127.0.0.1, port: {inbound}, app_address: 127.0.0.1, app_port: %(app)d}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  access_log: {{enabled: false}}
services:
%(services)s
"""


def node(services, me="client", app=1):
    # Mesh fills the ports with str.format: the services' own braces are escaped here.
    escaped = services.replace("{", "{{").replace("}", "}}")
    return NODE % {"services": escaped, "me": me, "app": app}


def endpoints(*ups, indent=4):
    pad = " " * indent
    lines = [pad + "endpoints:"]
    for up in ups:
        lines.append(pad + "  - {address: 127.0.0.1, port: %d, labels: {version: %s}}"
                     % (up.port, up.name))
    return "\n".join(lines)


def attempts_seen(up, path):
    return [int(h.get("x-actormesh-attempt", 0)) for m, p, h in up.requests if p == path]


class Client:
    """Keep-alive HTTP/1.1 through the sidecar's outbound listener (absolute-form)."""

    def __init__(self, mesh):
        self.conn = http.client.HTTPConnection("127.0.0.1", mesh.outbound, timeout=10)

    def get(self, url, headers=None, method="GET", body=None):
        self.conn.request(method, url, body=body, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()


def test_retry_on_a_response_header_regex_and_not_on_other_values():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    retry:
      attempts: 3
      backoff: {base: 1ms, max: 5ms}
      headers: [{name: x-retry-hint, regex: "^(busy|later)$"}]
""" + endpoints(up)))
    try:
        c = Client(mesh)
        status, headers, _ = c.get("http://api/header/x-retry-hint/busy")
        assert status == 200 and headers["x-retry-hint"] == "busy"
        assert attempts_seen(up, "/header/x-retry-hint/busy") == [1, 2, 3]
        c.get("http://api/header/x-retry-hint/busy-not")
        assert attempts_seen(up, "/header/x-retry-hint/busy-not") == [1]
    finally:
        mesh.stop()
        up.stop()


def test_post_is_not_retried_unless_the_route_allows_it():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    retry: {attempts: 3, backoff: {base: 1ms, max: 2ms}, on: [gateway_error]}
    routes:
      - name: writes-ok
        match: {headers: [{name: x-writes-retry, exact: "yes"}]}
        retry: {attempts: 3, backoff: {base: 1ms, max: 2ms}, on: [gateway_error], non_idempotent: true}
      - name: default
""" + endpoints(up)))
    try:
        c = Client(mesh)
        assert c.get("http://api/status/503", method="POST", body=b"x")[0] == 503
        assert attempts_seen(up, "/status/503") == [1]
        assert c.get("http://api/status/503", method="GET")[0] == 503
        assert attempts_seen(up, "/status/503") == [1, 1, 2, 3]
        c.get("http://api/status/503", {"x-writes-retry": "yes"}, method="POST", body=b"x")
        assert attempts_seen(up, "/status/503") == [1, 1, 2, 3, 1, 2, 3]
    finally:
        mesh.stop()
        up.stop()


def test_the_retry_budget_caps_retries_under_total_failure():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    retry: {attempts: 3, backoff: {base: 1ms, max: 2ms}, on: [gateway_error]}
    retry_budget: {percent: 20, min_per_second: 0}
""" + endpoints(up)))
    try:
        c = Client(mesh)
        for _ in range(200):
            assert c.get("http://api/status/503")[0] == 503
        total = len(up.requests)
        # Without a budget: 600 upstream requests. With 20%: 200 + at most 40 retries.
        assert 200 < total <= 240, total
    finally:
        mesh.stop()
        up.stop()


def test_a_per_try_timeout_retries_then_answers_504():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    timeout: 5s
    retry: {attempts: 2, per_try_timeout: 200ms, backoff: {base: 1ms, max: 2ms}, on: [timeout]}
""" + endpoints(up)))
    try:
        start = time.time()
        code, out, err = curl("-i", "http://api/slow/1500", proxy=mesh.proxy)
        elapsed = time.time() - start
        assert out.startswith(b"HTTP/1.1 504"), out
        assert 0.35 < elapsed < 1.4, elapsed
        assert len([r for r in up.requests if r[1] == "/slow/1500"]) == 2
    finally:
        mesh.stop()
        up.stop()


def test_a_90_10_split_over_5000_requests_lands_within_two_points():
    v1, v2 = Upstream("v1"), Upstream("v2")
    mesh = Mesh(node("""  api:
    routes:
      - name: canary
        targets: [{subset: {version: v1}, weight: 90}, {subset: {version: v2}, weight: 10}]
""" + endpoints(v1, v2)))
    try:
        c = Client(mesh)
        seen = collections.Counter()
        for _ in range(5000):
            status, _, body = c.get("http://api/")
            seen[json.loads(body)["name"]] += 1
        share = seen["v2"] / 5000
        assert 0.08 <= share <= 0.12, seen
    finally:
        mesh.stop()
        v1.stop()
        v2.stop()


def test_one_users_requests_all_land_on_one_version_and_ab_users_are_pinned():
    v1, v2 = Upstream("v1"), Upstream("v2")
    mesh = Mesh(node("""  api:
    routes:
      - name: alice-tries-v2
        match: {headers: [{name: x-user-id, exact: alice}]}
        targets: [{subset: {version: v2}}]
      - name: half-half
        targets: [{subset: {version: v1}, weight: 50}, {subset: {version: v2}, weight: 50}]
        hash: {header: x-user-id}
""" + endpoints(v1, v2)))
    try:
        c = Client(mesh)
        per_user = collections.defaultdict(set)
        for user in ["u%d" % i for i in range(40)]:
            for _ in range(5):
                _, _, body = c.get("http://api/", {"x-user-id": user})
                per_user[user].add(json.loads(body)["name"])
        assert all(len(v) == 1 for v in per_user.values()), per_user
        versions = collections.Counter(next(iter(v)) for v in per_user.values())
        assert versions["v1"] > 5 and versions["v2"] > 5, versions
        for _ in range(20):
            _, _, body = c.get("http://api/", {"x-user-id": "alice"})
            assert json.loads(body)["name"] == "v2"
    finally:
        mesh.stop()
        v1.stop()
        v2.stop()


def test_routes_match_paths_methods_and_queries_and_edit_headers():
    v1, v2 = Upstream("v1"), Upstream("v2")
    mesh = Mesh(node("""  api:
    routes:
      - name: beta
        match: {path: {regex: "/items/[0-9]+"}, methods: [GET], query: [{name: beta, exact: "1"}]}
        targets: [{subset: {version: v2}}]
        request_headers: {set: {x-route: beta}, remove: [x-debug]}
        response_headers: {set: {x-served-by-route: beta}, remove: [Server]}
      - name: rest
        targets: [{subset: {version: v1}}]
""" + endpoints(v1, v2)))
    try:
        c = Client(mesh)
        status, headers, body = c.get("http://api/items/42?beta=1", {"x-debug": "1", "x-route": "x"})
        got = json.loads(body)
        assert got["name"] == "v2"
        assert got["headers"]["x-route"] == "beta" and "x-debug" not in got["headers"]
        assert got["headers"]["x-actormesh-caller"] == "client"
        assert headers["x-served-by-route"] == "beta" and "Server" not in headers
        for url, method in (("http://api/items/42?beta=2", "GET"), ("http://api/items/x?beta=1", "GET"),
                            ("http://api/items/42?beta=1", "DELETE")):
            _, headers, body = c.get(url, method=method)
            assert json.loads(body)["name"] == "v1", url
            assert "x-served-by-route" not in headers
    finally:
        mesh.stop()
        v1.stop()
        v2.stop()


def test_fault_injection_aborts_and_delays():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    routes:
      - name: broken
        match: {path: {prefix: /broken}}
        fault: {abort: {percent: 100, status: 418}}
      - name: slow
        match: {path: {prefix: /slow-down}}
        fault: {delay: {percent: 100, duration: 300ms}}
""" + endpoints(up)))
    try:
        c = Client(mesh)
        status, headers, body = c.get("http://api/broken/x")
        assert status == 418 and headers["x-actormesh-error"] == "fault_injected", (status, body)
        assert not [r for r in up.requests if r[1].startswith("/broken")]
        c = Client(mesh)
        start = time.time()
        assert c.get("http://api/slow-down/x")[0] == 200
        assert time.time() - start >= 0.29
    finally:
        mesh.stop()
        up.stop()


def test_access_control_between_two_sidecars():
    app = Upstream("orders-app")
    callee = Mesh(node("""  orders:
    access: {deny: [batch]}
""", me="orders", app=app.port))
    batch = Mesh(node("""  orders:
    endpoints:
      - {address: 127.0.0.1, port: %d}
""" % callee.inbound, me="batch"))
    frontend = Mesh(node("""  orders:
    endpoints:
      - {address: 127.0.0.1, port: %d}
""" % callee.inbound, me="frontend"))
    try:
        code, out, err = curl("-i", "http://orders/list", "-H", "x-actormesh-caller: frontend",
                              proxy=batch.proxy)
        assert out.startswith(b"HTTP/1.1 403"), out
        assert b"x-actormesh-error: access_denied" in out
        assert b"caller 'batch' denied by services.orders.access.deny[0]" in out
        code, out, err = curl("http://orders/list", proxy=frontend.proxy)
        got = json.loads(out)
        assert got["name"] == "orders-app" and got["headers"]["x-actormesh-caller"] == "frontend"
        assert callee.metric("actormesh_requests_total", direction="inbound", code="403") == 1
    finally:
        for m in (batch, frontend, callee):
            m.stop()
        app.stop()


def served_by(mesh, n, path="/"):
    c = Client(mesh)
    out = []
    for _ in range(n):
        status, _, body = c.get("http://api" + path)
        out.append((status, body.decode(errors="replace")))
    return out


def test_an_ejected_endpoint_gets_no_traffic_then_returns():
    good, bad = Upstream("v1"), Upstream("v2", status=500)
    mesh = Mesh(node("""  api:
    outlier: {consecutive_5xx: 3, base_ejection: 1s, max_ejection_percent: 50, interval: 100ms}
""" + endpoints(good, bad)))
    try:
        served_by(mesh, 8)  # round robin: the bad endpoint answers 500 four times
        time.sleep(0.1)     # one flush and one decision
        bad_before = len(bad.requests)
        assert bad_before >= 3
        results = served_by(mesh, 20)
        assert len(bad.requests) == bad_before, "an ejected endpoint got traffic"
        assert all(status == 200 for status, _ in results)
        assert "ejected [127.0.0.1:%d]" % bad.port in mesh.log()
        bad.status_override = 0  # it recovers; after the ejection it is on probation
        time.sleep(1.1)
        served_by(mesh, 10)
        assert len(bad.requests) > bad_before, "the endpoint never returned"
    finally:
        mesh.stop()
        good.stop()
        bad.stop()


def test_the_breaker_opens_half_opens_and_closes_again():
    up = Upstream("v1", status=503)
    mesh = Mesh(node("""  api:
    breaker: {consecutive_failures: 3, open: 500ms, half_open_probes: 1}
""" + endpoints(up)))
    try:
        c = Client(mesh)
        for _ in range(3):
            assert c.get("http://api/")[0] == 503
        time.sleep(0.1)
        status, headers, _ = c.get("http://api/")
        assert status == 503 and headers.get("x-actormesh-error") == "breaker_open", headers
        assert len(up.requests) == 3, "an open breaker let a request through"
        # Still failing when it half-opens: the probe fails and it opens again.
        time.sleep(0.6)
        assert c.get("http://api/")[0] == 503
        assert len(up.requests) == 4
        time.sleep(0.1)
        assert c.get("http://api/")[1].get("x-actormesh-error") == "breaker_open"
        # Healthy when it half-opens next: the probe succeeds and it closes.
        up.status_override = 0
        time.sleep(0.6)
        assert c.get("http://api/")[0] == 200
        time.sleep(0.1)
        assert all(c.get("http://api/")[0] == 200 for _ in range(5))
        assert "breaker api: outcomes; breaker closed" in mesh.log()
    finally:
        mesh.stop()
        up.stop()


def test_concurrency_limits_answer_503_overloaded():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    limits: {max_requests: 1}
""" + endpoints(up)))
    try:
        import threading
        slow = threading.Thread(target=lambda: curl("http://api/slow/800", proxy=mesh.proxy))
        slow.start()
        time.sleep(0.3)
        code, out, err = curl("-i", "http://api/fast", proxy=mesh.proxy)
        slow.join()
        assert out.startswith(b"HTTP/1.1 503"), out
        assert b"x-actormesh-error: overloaded" in out and b"max_requests 1 reached" in out
        assert curl("-o", "/dev/null", "-w", "%{http_code}", "http://api/fast",
                    proxy=mesh.proxy)[1] == b"200"
    finally:
        mesh.stop()
        up.stop()


def test_a_connect_timeout_fails_the_attempt():
    import socket
    # A listener that never accepts, with its backlog full: further SYNs are dropped, so a
    # connect to it hangs (on loopback, never leaving the machine).
    sink = socket.socket()
    sink.bind(("127.0.0.1", 0))
    sink.listen(0)
    port = sink.getsockname()[1]
    fillers = []
    for _ in range(4):
        f = socket.socket()
        f.setblocking(False)
        try:
            f.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(f)
    time.sleep(0.1)
    mesh = Mesh(node("""  api:
    connect_timeout: 200ms
    endpoints:
      - {address: 127.0.0.1, port: %d}
""" % port))
    try:
        start = time.time()
        code, out, err = curl("-i", "http://api/", proxy=mesh.proxy)
        assert out.startswith(b"HTTP/1.1 503"), out
        assert b"connect timed out" in out
        assert time.time() - start < 1.5
    finally:
        mesh.stop()
        for f in fillers:
            f.close()
        sink.close()


def test_a_policy_edit_applies_live_and_drops_no_request_in_flight():
    v1, v2 = Upstream("v1"), Upstream("v2")
    services = """  api:
    routes:
      - name: all
        targets: [{subset: {version: %s}}]
""" + endpoints(v1, v2)
    mesh = Mesh(node(services % "v1"))
    try:
        import threading
        results = []
        per_thread = [0] * 4
        stop = threading.Event()

        def load(i):
            # Every failure counts, exceptions included: a thread that died would hide the
            # requests it did not make.
            c = None
            deadline = time.time() + 10
            while not stop.is_set() and time.time() < deadline:
                try:
                    c = c or Client(mesh)
                    status, _, body = c.get("http://api/slow/20")
                    results.append(status)
                except Exception as e:  # noqa: BLE001
                    results.append(repr(e))
                    c = None
                per_thread[i] += 1
        threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        mesh.rewrite_config(node(services % "v2"))
        deadline = time.time() + 5
        name = None
        while time.time() < deadline:
            name = json.loads(Client(mesh).get("http://api/")[2])["name"]
            if name == "v2":
                break
            time.sleep(0.05)
        assert name == "v2", "the edit did not apply"
        # A bad edit is rejected whole with its field path; v2 stays in force.
        mesh.rewrite_config(node(services.replace("subset: {version: %s}",
                                                  "subset: {version: %s}, weight: -1") % "v1"))
        assert eventually(lambda: "commander: rejected a config" in mesh.log(), 5), \
            mesh.log()
        assert "services.api.routes[0].targets[0].weight: must be 0..1000000" in mesh.log()
        time.sleep(0.3)
        stop.set()
        for t in threads:
            t.join()
        assert json.loads(Client(mesh).get("http://api/")[2])["name"] == "v2"
        assert all(n >= 5 for n in per_thread), per_thread  # each kept up the load to the end
        assert results and all(s == 200 for s in results), collections.Counter(results)
    finally:
        mesh.stop()
        v1.stop()
        v2.stop()


def test_mirroring_copies_requests_to_a_shadow_subset_without_affecting_the_caller():
    live, shadow = Upstream("v1"), Upstream("shadow", status=500)
    mesh = Mesh(node("""  api:
    routes:
      - name: shadowed
        targets: [{subset: {version: v1}}]
        mirror: {subset: {version: shadow}, percent: 100}
""" + endpoints(live, shadow)))
    try:
        c = Client(mesh)
        for i in range(10):
            status, _, body = c.get("http://api/m/%d" % i)
            assert status == 200 and json.loads(body)["name"] == "v1"
        deadline = time.time() + 3
        while len(shadow.requests) < 10 and time.time() < deadline:
            time.sleep(0.02)
        assert sorted(r[1] for r in shadow.requests) == sorted("/m/%d" % i for i in range(10))
        assert all(r[2].get("x-actormesh-mirror") == "1" for r in shadow.requests)
        assert len(live.requests) == 10
        # A request with a body is mirrored with its body (up to 64 KiB).
        status, _, body = c.get("http://api/post", method="POST", body=b"y" * 3000)
        assert status == 200 and json.loads(body)["body_bytes"] == 3000
        deadline = time.time() + 3
        while len(shadow.bodies) < 11 and time.time() < deadline:
            time.sleep(0.02)
        assert shadow.bodies[-1] == 3000, shadow.bodies
    finally:
        mesh.stop()
        live.stop()
        shadow.stop()


def test_a_probation_endpoint_gets_one_request_and_a_failure_ejects_it_longer():
    good, bad = Upstream("v1"), Upstream("v2", status=500)
    mesh = Mesh(node("""  api:
    outlier: {consecutive_5xx: 2, base_ejection: 600ms, max_ejection_percent: 50, interval: 10s}
""" + endpoints(good, bad)))
    try:
        served_by(mesh, 6)
        time.sleep(0.1)
        ejected_at = len(bad.requests)
        time.sleep(0.7)  # the ejection ends: probation
        served_by(mesh, 10)
        assert len(bad.requests) == ejected_at + 1, (ejected_at, len(bad.requests))
        time.sleep(0.7)  # the failed probe doubled the ejection to 1.2 s: still out
        served_by(mesh, 10)
        assert len(bad.requests) == ejected_at + 1
    finally:
        mesh.stop()
        good.stop()
        bad.stop()


def test_a_service_idle_timeout_closes_pooled_connections():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    idle_timeout: 200ms
""" + endpoints(up)))
    try:
        served_by(mesh, 1)
        time.sleep(0.5)
        served_by(mesh, 1)
        assert mesh.metric("actormesh_upstream_connections_total", event="opened") == 2
    finally:
        mesh.stop()
        up.stop()


def test_a_connection_reset_is_retried_only_when_the_policy_says_so():
    up = Upstream("v1")
    mesh = Mesh(node("""  api:
    retry: {attempts: 3, backoff: {base: 1ms, max: 2ms}, on: [reset]}
    routes:
      - name: no-reset-retry
        match: {headers: [{name: x-no-retry, present: true}]}
        retry: {attempts: 3, on: [5xx]}
      - name: default
""" + endpoints(up)))
    try:
        code, out, err = curl("-i", "http://api/reset", proxy=mesh.proxy)
        assert out.startswith(b"HTTP/1.1 502"), out
        assert b"x-actormesh-error: upstream_reset" in out
        assert len([r for r in up.requests if r[1] == "/reset"]) == 3
        curl("-i", "http://api/reset", "-H", "x-no-retry: 1", proxy=mesh.proxy)
        assert len([r for r in up.requests if r[1] == "/reset"]) == 4
    finally:
        mesh.stop()
        up.stop()


if __name__ == "__main__":
    run([test_retry_on_a_response_header_regex_and_not_on_other_values,
         test_post_is_not_retried_unless_the_route_allows_it,
         test_the_retry_budget_caps_retries_under_total_failure,
         test_a_per_try_timeout_retries_then_answers_504,
         test_a_90_10_split_over_5000_requests_lands_within_two_points,
         test_one_users_requests_all_land_on_one_version_and_ab_users_are_pinned,
         test_routes_match_paths_methods_and_queries_and_edit_headers,
         test_fault_injection_aborts_and_delays,
         test_access_control_between_two_sidecars,
         test_an_ejected_endpoint_gets_no_traffic_then_returns,
         test_the_breaker_opens_half_opens_and_closes_again,
         test_concurrency_limits_answer_503_overloaded,
         test_a_connect_timeout_fails_the_attempt,
         test_a_policy_edit_applies_live_and_drops_no_request_in_flight,
         test_mirroring_copies_requests_to_a_shadow_subset_without_affecting_the_caller,
         test_a_probation_endpoint_gets_one_request_and_a_failure_ejects_it_longer,
         test_a_service_idle_timeout_closes_pooled_connections,
         test_a_connection_reset_is_retried_only_when_the_policy_says_so])
