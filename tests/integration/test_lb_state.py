"""Load balancing and the state that must survive change, on the real sidecar: outcomes of a
request in flight across a change reach its own service's breaker, an ejected heavy endpoint
gets nothing, breakers and ejections survive changes to other services, pickers keep their
place, old snapshots are freed as soon as nothing holds them, and the pickers a service
selects with `lb` (least request, consistent hash)."""

import collections
import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Mesh, Upstream, eventually, node_head, run, write_atomically  # noqa: E402

NODE = node_head("test") + """discovery: {{endpoints_file: {dir}/endpoints.yaml}}
services:
%s
"""


def node(services):
    return NODE % services.replace("{", "{{").replace("}", "}}")


def other_at(up):
    """The endpoints file: service `other` at `up` (discovery polls it)."""
    return "services:\n  other:\n    endpoints:\n      - {address: 127.0.0.1, port: %d}\n" % up.port


def move_other(mesh, up):
    write_atomically(os.path.join(mesh.dir, "endpoints.yaml"), other_at(up))
    assert eventually(lambda: Client(mesh).name("http://other/") == up.name), mesh.log()


def start(services, other=None):
    return Mesh(node(services), extra_files={"endpoints.yaml": other_at(other) if other
                                             else "services: {}\n"})


def eps(*ups, weights=None):
    weights = weights or [1] * len(ups)
    return "\n".join("      - {address: 127.0.0.1, port: %d, weight: %d}" % (u.port, w)
                     for u, w in zip(ups, weights))


class Client:
    """Keep-alive HTTP/1.1 through the sidecar's outbound listener (absolute-form)."""

    def __init__(self, mesh, timeout=10):
        self.conn = http.client.HTTPConnection("127.0.0.1", mesh.outbound, timeout=timeout)

    def get(self, url, headers=None):
        self.conn.request("GET", url, headers=headers or {})
        r = self.conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()

    def name(self, url, headers=None):
        status, _, body = self.get(url, headers)
        assert status == 200, (status, body)
        return json.loads(body)["name"]


def test_a_request_in_flight_across_a_renumbering_change_records_against_its_own_service():
    # `m` is the first service; the change adds `a`, which comes first after it. An outcome
    # kept by position would reach a's breaker (and open it) instead of m's.
    m_up, a_up, z_up = Upstream("m"), Upstream("a"), Upstream("z")
    before = """  m:
    breaker: {consecutive_failures: 1, open: 30s}
    endpoints:
%s
  z:
    endpoints:
%s""" % (eps(m_up), eps(z_up))
    after = before + """
  a:
    breaker: {consecutive_failures: 1, open: 30s}"""
    mesh = start(before)
    try:
        result = []
        slow = threading.Thread(
            target=lambda: result.append(Client(mesh).get("http://m/slowstatus/1200/500")[0]))
        slow.start()
        time.sleep(0.2)
        write_atomically(os.path.join(mesh.dir, "endpoints.yaml"),
                         "services:\n  a:\n    endpoints:\n%s\n" % eps(a_up))
        mesh.rewrite_config(node(after))
        assert eventually(lambda: Client(mesh).get("http://a/")[0] == 200), mesh.log()
        slow.join()
        assert result == [500]
        time.sleep(0.2)  # a flush and a decision
        c = Client(mesh)
        assert [c.get("http://a/")[0] for _ in range(3)] == [200] * 3, mesh.log()
        status, headers, _ = c.get("http://m/")
        assert status == 503 and headers.get("x-actormesh-error") == "breaker_open", mesh.log()
        assert len(m_up.requests) == 1
    finally:
        mesh.stop()
        for u in (m_up, a_up, z_up):
            u.stop()


def test_an_ejected_heavy_endpoint_gets_no_traffic():
    heavy, light = Upstream("heavy", status=500), Upstream("light")
    mesh = start("""  api:
    outlier: {consecutive_5xx: 3, base_ejection: 30s, max_ejection_percent: 50, interval: 10s}
    endpoints:
%s""" % eps(heavy, light, weights=[10, 1]))
    try:
        c = Client(mesh)
        for _ in range(6):
            c.get("http://api/")
        assert eventually(lambda: "ejected [127.0.0.1:%d]" % heavy.port in mesh.log()), mesh.log()
        time.sleep(0.05)
        sent = len(heavy.requests)
        statuses = collections.Counter(c.get("http://api/")[0] for _ in range(200))
        assert len(heavy.requests) == sent, "the ejected endpoint got %d of 200 requests" % (
            len(heavy.requests) - sent)
        assert statuses == {200: 200}, statuses
    finally:
        mesh.stop()
        heavy.stop()
        light.stop()


STATEFUL = """  api:
    outlier: {consecutive_5xx: 2, base_ejection: 30s, max_ejection_percent: 50, interval: 10s}
    endpoints:
%s
  brk:
    breaker: {consecutive_failures: 2, open: 30s}
    endpoints:
%s
  rr:
    endpoints:
%s
  other:
    timeout: %s"""


def test_breakers_ejections_and_pickers_survive_changes_to_another_service():
    good, bad, down = Upstream("good"), Upstream("bad", status=500), Upstream("down", status=503)
    rr = [Upstream("rr%d" % i) for i in range(3)]
    o1, o2 = Upstream("o1"), Upstream("o2")
    ups = [good, bad, down, o1, o2] + rr
    config = lambda timeout: node(STATEFUL % (eps(good, bad), eps(down), eps(*rr), timeout))
    mesh = Mesh(config("2s"), extra_files={"endpoints.yaml": other_at(o1)})
    try:
        c = Client(mesh)
        for _ in range(6):
            c.get("http://api/")
        c.get("http://brk/")
        c.get("http://brk/")
        assert eventually(lambda: "ejected [127.0.0.1:%d]" % bad.port in mesh.log())
        assert eventually(lambda: c.get("http://brk/")[1].get("x-actormesh-error")
                          == "breaker_open")
        last = c.name("http://rr/")

        def still_as_it_was():
            nonlocal last
            name = c.name("http://rr/")
            assert name != last, "the round-robin picker started over"
            last = name
            sent_bad, sent_down = len(bad.requests), len(down.requests)
            assert all(c.get("http://api/")[0] == 200 for _ in range(20)), "the ejection was lost"
            assert len(bad.requests) == sent_bad
            status, headers, _ = c.get("http://brk/")
            assert status == 503 and headers.get("x-actormesh-error") == "breaker_open", (
                "the open breaker closed")
            assert len(down.requests) == sent_down

        # Another service's endpoints change: a new snapshot for every service.
        move_other(mesh, o2)
        still_as_it_was()
        # Another service's policy changes: a new config version.
        mesh.rewrite_config(config("3s"))
        assert eventually(lambda: "commander: version 2" in mesh.log()), mesh.log()
        time.sleep(0.3)
        still_as_it_was()
    finally:
        mesh.stop()
        for u in ups:
            u.stop()


def test_an_old_snapshot_is_freed_when_its_last_request_ends_whatever_came_after():
    slow = Upstream("slow")
    others = [Upstream("o%d" % i) for i in range(1, 6)]
    mesh = start("""  slow:
    endpoints:
%s""" % eps(slow), others[0])
    try:
        assert mesh.metric("actormesh_routing_snapshots") == 1
        held = threading.Thread(target=lambda: Client(mesh).get("http://slow/slow/2500"))
        held.start()
        time.sleep(0.2)
        for up in others[1:]:  # four changes, each in force before the next
            move_other(mesh, up)
        # The current snapshot, and the one the slow request holds: not the three between.
        assert mesh.metric("actormesh_routing_snapshots") == 2
        held.join()
        assert eventually(lambda: mesh.metric("actormesh_routing_snapshots") == 1)
    finally:
        mesh.stop()
        for u in [slow] + others:
            u.stop()


def test_least_request_sends_new_requests_away_from_a_busy_endpoint():
    a, b = Upstream("a"), Upstream("b")
    mesh = start("""  api:
    lb: least_request
    endpoints:
%s""" % eps(a, b))
    try:
        busy = threading.Thread(target=lambda: Client(mesh).get("http://api/slow/1500"))
        busy.start()
        eventually(lambda: len(a.requests) + len(b.requests) == 1)
        idle = "b" if a.requests else "a"
        c = Client(mesh)
        names = [c.name("http://api/") for _ in range(10)]
        busy.join()
        assert names == [idle] * 10, names
    finally:
        mesh.stop()
        a.stop()
        b.stop()


def test_consistent_hash_keeps_each_user_on_one_endpoint():
    ups = [Upstream("e%d" % i) for i in range(3)]
    mesh = start("""  api:
    lb: {consistent_hash: {header: x-user}}
    endpoints:
%s""" % eps(*ups))
    try:
        c = Client(mesh)
        homes = {}
        for user in range(20):
            seen = {c.name("http://api/", {"x-user": "user-%d" % user}) for _ in range(4)}
            assert len(seen) == 1, (user, seen)
            homes[user] = seen.pop()
        assert len(set(homes.values())) >= 2, homes
    finally:
        mesh.stop()
        for u in ups:
            u.stop()


def test_removing_a_breaker_ends_what_it_decided_and_a_passed_probe_restores_the_endpoint():
    down, good, flaky = Upstream("down", status=503), Upstream("good"), Upstream("flaky", status=500)
    services = """  brk:
%s    endpoints:
%s
  api:
    outlier: {consecutive_5xx: 2, base_ejection: 500ms, max_ejection_percent: 50, interval: 10s}
    endpoints:
%s"""
    breaker = "    breaker: {consecutive_failures: 2, open: 30s}\n"
    mesh = start(services % (breaker, eps(down), eps(good, flaky)))
    try:
        c = Client(mesh)
        c.get("http://brk/")
        c.get("http://brk/")
        assert eventually(lambda: c.get("http://brk/")[1].get("x-actormesh-error")
                          == "breaker_open")
        for _ in range(6):
            c.get("http://api/")
        assert eventually(lambda: "ejected [127.0.0.1:%d]" % flaky.port in mesh.log())

        # The breaker goes from the config: its open state must not outlive it.
        mesh.rewrite_config(node(services % ("", eps(down), eps(good, flaky))))
        assert eventually(lambda: "commander: version 2" in mesh.log()), mesh.log()
        assert eventually(lambda: c.get("http://brk/")[1].get("x-actormesh-error")
                          != "breaker_open"), "the removed breaker still refuses requests"

        # The flaky endpoint recovers: after its ejection, one probe brings it back for good.
        flaky.status_override = 0
        time.sleep(0.6)
        names = collections.Counter(c.name("http://api/") for _ in range(6))
        time.sleep(0.1)  # the probe's outcome reaches the breaker, its decision the worker
        names = collections.Counter(c.name("http://api/") for _ in range(20))
        assert names["flaky"] >= 8, ("a passed probe left the endpoint out", names)
    finally:
        mesh.stop()
        for u in (down, good, flaky):
            u.stop()


def test_locality_keeps_traffic_in_the_zone_and_spills_to_the_failover_zone_as_it_fails():
    a1, a2, b1, c1 = (Upstream(n) for n in ("a1", "a2", "b1", "c1"))
    zone_of = {a1: "zone-a", a2: "zone-a", b1: "zone-b", c1: "zone-c"}
    endpoints = "\n".join(
        "      - {address: 127.0.0.1, port: %d, labels: {region: r1, zone: %s}}"
        % (u.port, zone_of[u]) for u in (a1, a2, b1, c1))
    text = node("""  api:
    outlier: {consecutive_5xx: 2, base_ejection: 30s, max_ejection_percent: 50, interval: 10s}
    locality: {failover: [{from: zone-a, to: [zone-c]}]}
    endpoints:
%s""" % endpoints).replace("  workers: 1\n",
                           "  workers: 1\n  locality: {{region: r1, zone: zone-a}}\n")
    mesh = Mesh(text, extra_files={"endpoints.yaml": "services: {}\n"})
    try:
        c = Client(mesh)
        served = collections.Counter(c.name("http://api/") for _ in range(100))
        assert set(served) == {"a1", "a2"}, served

        # a2 fails and is ejected: zone-a is half healthy, so it keeps 1.4 * 1/2 = 70% and
        # the rest goes to zone-c, the failover zone, before zone-b of the same region.
        a2.status_override = 500
        for _ in range(8):
            c.get("http://api/")
        assert eventually(lambda: "ejected [127.0.0.1:%d]" % a2.port in mesh.log()), mesh.log()
        time.sleep(0.05)
        served = collections.Counter(c.name("http://api/") for _ in range(1000))
        assert set(served) <= {"a1", "c1"}, served
        assert 620 <= served["a1"] <= 780, served
    finally:
        mesh.stop()
        for u in (a1, a2, b1, c1):
            u.stop()


if __name__ == "__main__":
    run([
        test_a_request_in_flight_across_a_renumbering_change_records_against_its_own_service,
        test_an_ejected_heavy_endpoint_gets_no_traffic,
        test_breakers_ejections_and_pickers_survive_changes_to_another_service,
        test_an_old_snapshot_is_freed_when_its_last_request_ends_whatever_came_after,
        test_least_request_sends_new_requests_away_from_a_busy_endpoint,
        test_consistent_hash_keeps_each_user_on_one_endpoint,
        test_locality_keeps_traffic_in_the_zone_and_spills_to_the_failover_zone_as_it_fails,
        test_removing_a_breaker_ends_what_it_decided_and_a_passed_probe_restores_the_endpoint,
    ])
