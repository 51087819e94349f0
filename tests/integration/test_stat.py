"""Golden signals end to end: two sidecars (services web and api) attached to a control plane
call each other's service at a known rate, one pair with scripted failures and a known
latency; `meshctl stat` then agrees with what the clients counted: the requests exactly, the
success rate exactly, the rate within 10%, the median in the latency's bucket, one sidecar
per pair, per destination and per pair, filtered by source and destination."""

import http.client
import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Mesh, Upstream, api_and_web, control_plane_node, eventually,  # noqa: E402
                     free_port, meshctl, remote_sidecar, run)

RATE = 20        # requests/s per caller
DURATION = 20.0  # seconds of load
SLOW_MS = 30     # the latency of api's successful calls


class PacedCaller(threading.Thread):
    """Calls `host` through `sidecar` at RATE for DURATION on one keep-alive connection (a new
    one after an error), path by path from `paths` in turn; counts every answer by status
    class and every client-side failure (exceptions included) as a failure."""

    def __init__(self, sidecar, host, paths):
        super().__init__(daemon=True)
        self.sidecar, self.host, self.paths = sidecar, host, paths
        self.by_class = {"2xx": 0, "5xx": 0, "other": 0}
        self.client_errors = []
        self.started = self.ended = None

    def run(self):
        self.started = time.time()
        total = int(RATE * DURATION)
        conn = None
        for i in range(total):  # bounded in count, and paced: bounded in time
            due = self.started + i / RATE
            time.sleep(max(0.0, due - time.time()))
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.sidecar.outbound, timeout=10)
                conn.request("GET", "http://%s%s" % (self.host, self.paths[i % len(self.paths)]))
                r = conn.getresponse()
                r.read()
                cls = "%dxx" % (r.status // 100)
                self.by_class[cls if cls in self.by_class else "other"] += 1
            except Exception as e:  # noqa: BLE001 - every client-side failure is counted
                self.client_errors.append(repr(e))
                conn = None
        self.ended = time.time()

    @property
    def sent(self):
        return sum(self.by_class.values()) + len(self.client_errors)


def stat(api, *args):
    code, out, err = meshctl(api, "stat", "--json", *args)
    assert code == 0, (code, out, err)
    return json.loads(out)


def rows(api, *args):
    return {(r["source"], r["destination"]): r for r in stat(api, *args)["rows"]}


def test_meshctl_stat_agrees_with_what_the_clients_counted():
    api_app, web_app = Upstream("api-app"), Upstream("web-app")
    control, api = free_port(), free_port()
    cp = Mesh(control_plane_node(control, api, api_and_web(api_app.port, web_app.port)),
              expect_ready=False)
    web = api_side = None
    try:
        web = remote_sidecar(control, name="web-1", sidecar="  service_name: web")
        api_side = remote_sidecar(control, name="api-1", sidecar="  service_name: api")
        # web calls api: three slow successes, then a scripted 500; api calls web: all fine.
        to_api = PacedCaller(web, "api", ["/slow/%d" % SLOW_MS] * 3 + ["/status/500"])
        to_web = PacedCaller(api_side, "web", ["/"])
        to_api.start()
        to_web.start()
        to_api.join(DURATION + 30)
        to_web.join(DURATION + 30)
        for caller in (to_api, to_web):
            assert not caller.client_errors, caller.client_errors[:3]
            assert caller.sent == int(RATE * DURATION)
        assert to_api.by_class == {"2xx": 300, "5xx": 100, "other": 0}, to_api.by_class
        assert to_web.by_class == {"2xx": 400, "5xx": 0, "other": 0}, to_web.by_class

        # Every call reported (a report a second from each sidecar).
        assert eventually(lambda: rows(api).get(("", "api"), {}).get("requests") == 400 and
                          rows(api).get(("", "web"), {}).get("requests") == 400, 10), stat(api)
        asked = time.time()
        pairs = rows(api, "--window", "1m", "--to", "api")
        pairs.update(rows(api, "--window", "1m", "--to", "web"))
        assert set(pairs) == {("web", "api"), ("api", "web")}, pairs
        web_api, api_web = pairs[("web", "api")], pairs[("api", "web")]
        assert web_api["requests"] == 400 and web_api["failures"] == 100, web_api
        assert web_api["success_rate"] == 0.75, web_api
        assert api_web["requests"] == 400 and api_web["failures"] == 0, api_web
        assert api_web["success_rate"] == 1.0, api_web
        for row, caller in ((web_api, to_api), (api_web, to_web)):
            assert row["sidecars"] == 1, row
            # The client's rate over the same window: its calls since it started.
            expected = caller.sent / (asked - caller.started)
            assert abs(row["requests_per_s"] - expected) <= 0.1 * expected, (row, expected)
        # Three calls in four took SLOW_MS: the median is in the (25, 50] ms bucket.
        assert 25 <= web_api["p50_ms"] <= 50, web_api
        assert web_api["p99_ms"] >= web_api["p50_ms"], web_api
        assert api_web["p50_ms"] < 25, api_web

        # Filters: api's callers, web's calls; and the text table.
        assert set(rows(api, "api")) == {("web", "api")}
        assert set(rows(api, "--from", "api")) == {("api", "web")}
        code, out, err = meshctl(api, "stat", "api")
        print(out, end="")
        assert code == 0 and "75.00%" in out and out.splitlines()[0].split()[:2] == \
            ["SOURCE", "DESTINATION"], (out, err)
        code, out, err = meshctl(api, "stat", "--window", "5m")
        assert code == 2 and "window: must be 10s, 1m or 10m" in err, (code, out, err)
    finally:
        for m in (web, api_side, cp):
            if m:
                m.stop()
        api_app.stop()
        web_app.stop()


if __name__ == "__main__":
    run([test_meshctl_stat_agrees_with_what_the_clients_counted])
