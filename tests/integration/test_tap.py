"""`meshctl tap` end to end: a control plane with sidecars attached (services web and api);
a tap sees exactly the requests that match its filter (service, method, path prefix, status)
from every sidecar that proxies them, with their method, authority, path, status, latency,
endpoint, attempts, caller and sidecar; a sidecar that attaches while a tap lasts taps too; a
tap's rate limit leaves requests out but counts every one; when the tap ends, every sidecar
removes it (the request path is back to checking one flag); and a node's own sidecar is
tapped through its own API."""

import http.client
import json
import os
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Mesh, Upstream, api_and_web, api_node, control_plane_node,  # noqa: E402
                     eventually, free_port, remote_sidecar, run, tool)


class Tap:
    """`meshctl tap --json ARGS` in the background: every line it prints, parsed."""

    def __init__(self, api_port, *args):
        self.proc = subprocess.Popen(
            [tool("meshctl"), "--server", "127.0.0.1:%d" % api_port, "tap", "--json"] +
            list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.lines = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(json.loads(line))

    def of_kind(self, kind):
        return [e for e in list(self.lines) if e["kind"] == kind]

    def tapping(self):
        return {e["sidecar"] for e in self.of_kind("tapping")}

    def wait_tapping(self, sidecars):
        assert eventually(lambda: self.tapping() >= set(sidecars), 10), \
            (self.lines, self.proc.poll(), self.proc.stderr.read() if self.proc.poll() else "")

    def requests(self):
        return self.of_kind("request")

    def dropped(self):
        return sum(e["dropped"] for e in self.of_kind("dropped"))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)


def call(sidecar, host, method, path, n):
    """n requests through the sidecar's outbound listener on one connection; the statuses."""
    conn = http.client.HTTPConnection("127.0.0.1", sidecar.outbound, timeout=10)
    statuses = []
    for _ in range(n):  # bounded in count; each has a 10 s timeout
        conn.request(method, "http://%s%s" % (host, path), body=b"x" if method == "POST" else None)
        r = conn.getresponse()
        r.read()
        statuses.append(r.status)
    conn.close()
    return statuses


def quiet(tap, expected, settle=1.0):
    """Waits for `expected` request events, then `settle` seconds more (sidecars flush every
    100 ms): anything extra would show."""
    assert eventually(lambda: len(tap.requests()) >= expected, 10), tap.lines
    time.sleep(settle)
    return tap.requests()


def test_tap_sees_exactly_the_matching_requests_from_every_sidecar():
    api_app, web_app = Upstream("api-app"), Upstream("web-app")
    control, api = free_port(), free_port()
    cp = Mesh(control_plane_node(control, api, api_and_web(api_app.port, web_app.port)),
              expect_ready=False)
    sidecars, taps = [], []
    try:
        web = remote_sidecar(control, name="web-1", sidecar="  service_name: web", workers=2)
        api_side = remote_sidecar(control, name="api-1", sidecar="  service_name: api")
        sidecars += [web, api_side]

        tap = Tap(api, "api", "--method", "GET", "--path", "/slow/")
        taps.append(tap)
        tap.wait_tapping(["web-1", "api-1"])  # every worker of both installed it
        # A sidecar that attaches while the tap lasts gets it too.
        web2 = remote_sidecar(control, name="web-2", sidecar="  service_name: web")
        sidecars.append(web2)
        tap.wait_tapping(["web-2"])

        assert call(web, "api", "GET", "/slow/1", 5) == [200] * 5        # match
        assert call(web, "api", "POST", "/slow/1", 3) == [200] * 3       # another method
        assert call(web, "api", "GET", "/status/200", 4) == [200] * 4    # another path
        assert call(api_side, "web", "GET", "/slow/1", 6) == [200] * 6   # another service
        assert call(web2, "api", "GET", "/slow/2", 2) == [200] * 2       # match, the new one
        seen = quiet(tap, 7)
        assert len(seen) == 7, seen
        by_sidecar = {}
        for e in seen:
            by_sidecar.setdefault(e["sidecar"], []).append(e["path"])
            assert (e["source"], e["destination"], e["method"], e["status"]) == \
                ("web", "api", "GET", 200), e
            assert e["authority"] == "api" and e["attempt"] == 1, e
            assert e["endpoint"] == "127.0.0.1:%d" % api_app.port, e
            assert e["latency_ms"] > 0 and e["error"] == "", e
            assert abs(e["unix_ms"] / 1000 - time.time()) < 30, e
        assert by_sidecar == {"web-1": ["/slow/1"] * 5, "web-2": ["/slow/2"] * 2}, by_sidecar

        # A status filter, by class, and only web's calls of api (--from).
        errors = Tap(api, "api", "--status", "5xx", "--from", "web")
        taps.append(errors)
        errors.wait_tapping(["web-1", "web-2"])
        assert "api-1" not in errors.tapping()  # api's sidecar is not a caller from web
        assert call(web, "api", "GET", "/status/503", 2) == [503] * 2
        assert call(web, "api", "GET", "/status/404", 2) == [404] * 2
        assert call(web, "api", "GET", "/status/200", 2) == [200] * 2
        seen = quiet(errors, 2)
        assert [(e["path"], e["status"]) for e in seen] == [("/status/503", 503)] * 2, seen
        assert len(quiet(tap, 7, settle=0)) == 7  # the first tap saw none of those

        # A rate limit leaves requests out, and counts them: api-1 has one worker.
        limited = Tap(api, "web", "--max-rps", "3")
        taps.append(limited)
        limited.wait_tapping(["api-1"])
        started = time.time()
        assert call(api_side, "web", "GET", "/", 30) == [200] * 30
        elapsed = time.time() - started
        assert eventually(lambda: len(limited.requests()) + limited.dropped() == 30, 10), \
            limited.lines
        assert 3 <= len(limited.requests()) <= 3 * (int(elapsed) + 2), (elapsed, limited.lines)
        assert limited.dropped() >= 30 - 3 * (int(elapsed) + 2)

        # Sidecars count what taps saw; when the taps end, every sidecar removes them.
        assert web.metric("actormesh_tap_events_total", event="sent") == 5 + 2
        assert api_side.metric("actormesh_tap_events_total", event="dropped") == \
            limited.dropped()
        assert web.metric("actormesh_taps_active") == 3  # every tap but --from elsewhere
        for t in taps:
            t.stop()
        for s in sidecars:
            assert eventually(lambda: s.metric("actormesh_taps_active") == 0, 10), s.admin
        call(web, "api", "GET", "/slow/1", 2)
        assert web.metric("actormesh_tap_events_total", event="sent") == 7
    finally:
        for t in taps:
            t.stop()
        for m in sidecars + [cp]:
            m.stop()
        api_app.stop()
        web_app.stop()


def test_a_nodes_own_sidecar_is_tapped_through_its_api():
    app = Upstream("api-app")
    api = free_port()
    node = Mesh(api_node(app.port, sidecar="service_name: web") +
                "control:\n  api: {{address: 127.0.0.1, port: %d}}\n" % api)
    tap = None
    try:
        tap = Tap(api, "api", "--path", "/slow/")
        tap.wait_tapping(["test"])
        assert call(node, "api", "GET", "/slow/1", 3) == [200] * 3
        assert call(node, "api", "GET", "/", 3) == [200] * 3
        seen = quiet(tap, 3)
        assert [(e["sidecar"], e["source"], e["path"]) for e in seen] == \
            [("test", "web", "/slow/1")] * 3, seen
        # A tap that is not asked for is an error with the reason.
        code = subprocess.run([tool("meshctl"), "--server", "127.0.0.1:%d" % api, "tap"],
                              capture_output=True, text=True, timeout=20)
        assert code.returncode == 2 and "tap needs SERVICE" in code.stderr, code
    finally:
        if tap:
            tap.stop()
        node.stop()
        app.stop()


if __name__ == "__main__":
    run([test_tap_sees_exactly_the_matching_requests_from_every_sidecar,
         test_a_nodes_own_sidecar_is_tapped_through_its_api])
