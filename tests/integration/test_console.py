"""The web console in a real browser: a control plane with `control.console`, two sidecars
(web and api) calling each other, one of api's endpoints dead (ejected by outlier detection)
and a service whose only endpoint is dead (its breaker open). /api/overview carries the
services, the calls with their rates, the sidecars with the config version each acked and
their breakers and ejections, and the control plane's actors; headless Chromium (Debian's)
renders the page: the services, an edge with a non-zero rate, the sidecars and the open
breaker appear in its DOM, and a screenshot is kept (build/console.png)."""

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import (Mesh, Upstream, control_plane_node, eventually, free_port,  # noqa: E402
                     remote_sidecar, run)

# (continues the control section of control_plane_node's head)
BODY = """  console: {{address: 127.0.0.1, port: %(console)d}}
services:
  api:
    endpoints:
      - {{address: 127.0.0.1, port: %(api)d}}
      - {{address: 127.0.0.1, port: %(dead)d}}
    outlier: {{consecutive_gateway_errors: 2, base_ejection: 60s, max_ejection_percent: 50}}
  web:
    endpoints: [{{address: 127.0.0.1, port: %(web)d}}]
  broken:
    endpoints: [{{address: 127.0.0.1, port: %(dead)d}}]
    breaker: {{consecutive_failures: 3, open: 60s, half_open_probes: 1}}
"""

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--hide-scrollbars"]


class Caller(threading.Thread):
    """Calls `host` through `sidecar`, 10 requests a second, until stopped (at most 60 s);
    counts answers by status and every client-side failure."""

    def __init__(self, sidecar, host):
        super().__init__(daemon=True)
        self.sidecar, self.host = sidecar, host
        self.statuses, self.errors = [], []
        self.done = threading.Event()

    def run(self):
        for _ in range(600):  # bounded in count and time
            if self.done.wait(0.1):
                return
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.sidecar.outbound, timeout=10)
                conn.request("GET", "http://%s/" % self.host)
                r = conn.getresponse()
                r.read()
                self.statuses.append(r.status)
                conn.close()
            except Exception as e:  # noqa: BLE001 - every client-side failure is counted
                self.errors.append(repr(e))

    def stop(self):
        self.done.set()
        self.join(15)


def get(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return r.status, r.headers.get("content-type"), r.read().decode()


def overview(port, window="1m"):
    return json.loads(get(port, "/api/overview?window=" + window)[2])


def chromium(*args, timeout=90):
    profile = tempfile.mkdtemp(prefix="actormesh-chromium-")
    try:
        p = subprocess.run([shutil.which("chromium") or "/usr/bin/chromium"] + CHROMIUM_FLAGS +
                           ["--user-data-dir=" + profile] + list(args),
                           capture_output=True, text=True, timeout=timeout)
        return p.returncode, p.stdout, p.stderr
    finally:
        shutil.rmtree(profile, True)


def test_the_console_shows_the_mesh_in_a_real_browser():
    api_app, web_app = Upstream("api-app"), Upstream("web-app")
    dead = free_port()  # nothing listens: connections refused
    control, api, console = free_port(), free_port(), free_port()
    cp = Mesh(control_plane_node(control, api, BODY % {
        "api": api_app.port, "web": web_app.port, "dead": dead, "console": console}),
        expect_ready=False)
    sidecars, callers = [], []
    try:
        web = remote_sidecar(control, name="web-1", sidecar="  service_name: web")
        api_side = remote_sidecar(control, name="api-1", sidecar="  service_name: api")
        sidecars += [web, api_side]
        callers = [Caller(web, "api"), Caller(api_side, "web")]
        for c in callers:
            c.start()
        # The broken service's breaker opens after three refused connections.
        for _ in range(4):
            conn = http.client.HTTPConnection("127.0.0.1", web.outbound, timeout=10)
            conn.request("GET", "http://broken/")
            assert conn.getresponse().status >= 500
            conn.close()

        def ready():
            o = overview(console)
            edges = {(e["source"], e["destination"]): e for e in o["edges"]}
            health = {s["name"]: s["health"] for s in o["sidecars"]}
            return (edges.get(("web", "api"), {}).get("requests_per_s", 0) > 0 and
                    edges.get(("api", "web"), {}).get("requests_per_s", 0) > 0 and
                    {"service": "api", "breaker": "closed", "ejected": 1} in health.get("web-1", [])
                    and any(h["service"] == "broken" and h["breaker"] == "open"
                            for h in health.get("web-1", [])))
        assert eventually(ready, 15), overview(console)

        o = overview(console)
        version = o["config_version"]
        assert version >= 1, o
        assert {s["name"] for s in o["services"]} >= {"api", "web", "broken"}, o["services"]
        sidecar_rows = {s["name"]: s for s in o["sidecars"]}
        assert set(sidecar_rows) == {"web-1", "api-1"}, o["sidecars"]
        for s in sidecar_rows.values():
            assert s["connected"] and s["config_version"] == version, s
        assert sidecar_rows["api-1"]["health"] == [], sidecar_rows["api-1"]
        actors = {a["name"]: a for a in o["actors"]}
        assert {"commander", "discovery", "control_gateway", "signals"} <= set(actors), actors
        assert actors["signals"]["messages"] > 0, actors["signals"]
        assert o["federation"] is None
        # The page is the binary's own, and the API refuses what it does not know.
        status, ctype, page = get(console, "/")
        assert status == 200 and ctype.startswith("text/html") and "/api/overview" in page
        assert not re.search(r"(src|href)=\"https?://", page), "the page fetches nothing else"
        try:
            get(console, "/api/overview?window=5m")
            assert False, "a bad window is refused"
        except urllib.error.HTTPError as e:
            assert e.code == 400 and "window" in e.read().decode()

        # A real browser: the rendered DOM, then a screenshot kept with the build.
        url = "http://127.0.0.1:%d/" % console
        code, dom, err = chromium("--virtual-time-budget=8000", "--dump-dom", url)
        assert code == 0, (code, err[-2000:])
        assert 'data-loaded="true"' in dom, dom[:3000]
        for name in ("api", "web", "broken"):
            assert 'class="node" data-service="%s"' % name in dom, (name, dom[:3000])
        edge = re.search(r'<g class="edge[^"]*" data-source="web" data-destination="api" '
                         r'data-rps="([0-9.]+)"', dom)
        assert edge and float(edge.group(1)) > 0, dom[:5000]
        assert 'data-sidecar="web-1"' in dom and 'data-sidecar="api-1"' in dom
        assert "broken: breaker open" in dom and "api: breaker closed, 1 ejected" in dom, dom
        shot = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
            harness.ARGS.binary))), "console.png")
        code, _, err = chromium("--virtual-time-budget=8000", "--window-size=1280,1000",
                                "--screenshot=" + shot, url)
        assert code == 0, err[-2000:]
        with open(shot, "rb") as f:
            png = f.read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000, len(png)
        print("screenshot: " + shot)

        for c in callers:
            c.stop()
            assert not c.errors, c.errors[:3]
    finally:
        for c in callers:
            c.stop()
        for m in sidecars + [cp]:
            m.stop()
        api_app.stop()
        web_app.stop()


def test_a_console_needs_the_control_plane_roles():
    console = free_port()
    node = Mesh("""
name: lone
roles: [sidecar]
control_plane: {{address: 127.0.0.1, port: 1}}
control:
  console: {{address: 127.0.0.1, port: %d}}
sidecar:
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  admin: {{address: 127.0.0.1, port: {admin}}}
""" % console, expect_ready=False)
    try:
        assert node.proc.wait(20) != 0
        with open(node.stderr_path) as f:
            err = f.read()
        assert "control.console" in err and "discovery and commander roles" in err, err
    finally:
        node.stop()


if __name__ == "__main__":
    run([test_the_console_shows_the_mesh_in_a_real_browser,
         test_a_console_needs_the_control_plane_roles])
