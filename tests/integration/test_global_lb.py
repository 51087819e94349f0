"""The global-lb on real processes: four lean sidecars attached to a control plane that runs
the global-lb, three endpoints, one made 50 ms slower while traffic flows. The global-lb
moves the `lb: global` service's traffic off it, and that service's p99 beats the round-robin
service's over the same endpoints in the same run; when the control plane goes away the
sidecars fall back to local least request and keep serving."""

import http.client
import json
import os
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Mesh, Upstream, control_plane_node, eventually, free_port,  # noqa: E402
                     meshctl, remote_sidecar, run)

BODY = """
services:
  api_g:
    lb: global
    endpoints:
%(endpoints)s
  api_rr:
    endpoints:
%(endpoints)s
"""

SIDECARS = 4
RATE = 40  # requests/s per sidecar, split between the two services


def endpoints(ups):
    return "\n".join("      - {{address: 127.0.0.1, port: %d}}" % u.port for u in ups)


def p99(values):
    values = sorted(values)
    return values[int(len(values) * 0.99)] if values else 0


class Load:
    """One client per sidecar, alternating between the services at RATE requests/s; records
    (time, service, seconds, endpoint name) and counts every failure, exceptions included."""

    def __init__(self, sidecars):
        self.records, self.failures = [], []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.drive, args=(s,)) for s in sidecars]
        for t in self.threads:
            t.start()

    def drive(self, sidecar):
        conn = http.client.HTTPConnection("127.0.0.1", sidecar.outbound, timeout=5)
        deadline = time.time() + 60  # bounded, whatever the test does
        n = 0
        while not self.stop.is_set() and time.time() < deadline:
            service = ("api_g", "api_rr")[n % 2]
            n += 1
            start = time.time()
            try:
                conn.request("GET", "http://%s/" % service)
                r = conn.getresponse()
                body = r.read()
                if r.status != 200:
                    self.failures.append((service, r.status))
                else:
                    self.records.append((start, service, time.time() - start,
                                         json.loads(body)["name"]))
            except Exception as e:  # noqa: BLE001 - every client-side failure counts
                self.failures.append((service, repr(e)))
                conn = http.client.HTTPConnection("127.0.0.1", sidecar.outbound, timeout=5)
            time.sleep(max(0.0, 1.0 / RATE - (time.time() - start)))

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join()


def test_global_lb_moves_traffic_off_a_slowed_endpoint_and_beats_round_robin():
    ups = [Upstream("e%d" % i) for i in range(3)]
    slow = ups[2]
    control, api = free_port(), free_port()
    cp = Mesh(control_plane_node(control, api, BODY % {"endpoints": endpoints(ups)},
                                 roles="discovery, commander, global_lb"), expect_ready=False)
    sidecars = [remote_sidecar(control, "sc%d" % i,
                               sidecar="  global_weights_max_age: 3s")
                for i in range(SIDECARS)]
    load = None
    try:
        load = Load(sidecars)
        # Weights in force on every sidecar: the global-lb heard them all.
        assert eventually(lambda: all(
            json.loads(s.admin_get("/config")[1])["global_weights"].get("api_g", {})
            .get("mode") == "global" for s in sidecars), 10), cp.log()
        time.sleep(1)
        slowed_at = time.time()
        slow.delay_ms = 50
        time.sleep(14)
        # The operator's view: meshctl lb, from the global-lb itself.
        code, out, err = meshctl(api, "lb", "api_g", "--json")
        assert code == 0, (code, out, err)
        table = json.loads(out)
        assert table["source"] == "global" and table["sidecars"] == SIDECARS, table
        rows = {e["endpoint"]: e for e in table["endpoints"]}
        slow_row = rows.pop("127.0.0.1:%d" % slow.port)
        # It gets about 1% of the requests: in a window it may have had none.
        assert slow_row["requests_per_s"] == 0 or slow_row["mean_latency_ms"] > 45, slow_row
        assert all(slow_row["weight"] * 10 < r["weight"] for r in rows.values()), table
        code, out, _ = meshctl(api, "lb", "api_g")
        assert code == 0 and "ENDPOINT" in out and "127.0.0.1:%d" % slow.port in out, out
        assert meshctl(api, "lb", "api_rr")[0] == 1  # round robin: nothing global to show
        load.finish()
        assert not load.failures, load.failures[:10]

        # Compared from 6 s after the slowdown: the endpoint's capacity estimate falls over a
        # few windows (the fewer requests it gets, the slower it moves).
        after = [r for r in load.records if r[0] >= slowed_at + 6]
        by = {svc: [r for r in after if r[1] == svc] for svc in ("api_g", "api_rr")}
        assert len(by["api_g"]) > 300 and len(by["api_rr"]) > 300, {k: len(v) for k, v in by.items()}
        share = sum(1 for r in by["api_g"] if r[3] == slow.name) / len(by["api_g"])
        rr_share = sum(1 for r in by["api_rr"] if r[3] == slow.name) / len(by["api_rr"])
        assert share < 0.05, "global-lb left %.1f%% on the slow endpoint" % (share * 100)
        assert 0.25 < rr_share < 0.42, rr_share
        p99_g = p99([r[2] for r in by["api_g"]])
        p99_rr = p99([r[2] for r in by["api_rr"]])
        assert p99_g < p99_rr and p99_rr >= 0.05, (p99_g, p99_rr)
        print("    slow share: global %.1f%%, round robin %.1f%%; p99 global %.1f ms, round "
              "robin %.1f ms" % (share * 100, rr_share * 100, p99_g * 1000, p99_rr * 1000))

        weights = json.loads(sidecars[0].admin_get("/config")[1])["global_weights"]["api_g"]
        w = weights["weights"]
        assert w["127.0.0.1:%d" % slow.port] * 10 < min(
            v for k, v in w.items() if k != "127.0.0.1:%d" % slow.port), w
        assert sidecars[0].metric("actormesh_endpoint_weight", service="api_g") > 0
        assert sidecars[0].metric("actormesh_lb_mode", service="api_g", mode="global") == 1

        # The control plane goes away: weights age out, the sidecars balance locally.
        cp.proc.send_signal(signal.SIGKILL)
        cp.proc.wait()
        assert eventually(lambda: all(
            s.metric("actormesh_lb_mode", service="api_g", mode="local") == 1
            for s in sidecars), 10)
        conn = http.client.HTTPConnection("127.0.0.1", sidecars[0].outbound, timeout=5)
        for _ in range(10):
            conn.request("GET", "http://api_g/")
            r = conn.getresponse()
            r.read()
            assert r.status == 200
    finally:
        if load is not None:
            load.finish()
        for s in sidecars:
            s.stop()
        if cp.proc.poll() is None:
            cp.stop()
        for u in ups:
            u.stop()


if __name__ == "__main__":
    run([test_global_lb_moves_traffic_off_a_slowed_endpoint_and_beats_round_robin])
