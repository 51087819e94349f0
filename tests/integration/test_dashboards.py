"""The Grafana dashboards (config/grafana/*.json) against a real Prometheus (Debian's) scraping
a running mesh: a control plane and a sidecar with traffic, some of it failing. Every query of
every panel, with the dashboard's variables filled in as Grafana would, must parse and return
data; the variables' own queries must list the service under traffic. The checker is shown
refusing a query that does not parse and one that names no metric the mesh exports."""

import glob
import http.client
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Mesh, Upstream, control_plane_node, eventually, free_port,  # noqa: E402
                     remote_sidecar, run)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DASHBOARDS = sorted(glob.glob(os.path.join(ROOT, "config", "grafana", "*.json")))

BODY = """
services:
  api:
    endpoints: [{{address: 127.0.0.1, port: %(api)d}}]
"""

PROMETHEUS_CONFIG = """
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: actormesh-control-plane
    static_configs: [{targets: ["127.0.0.1:%(cp)d"]}]
  - job_name: actormesh-sidecars
    static_configs: [{targets: ["127.0.0.1:%(sidecar)d"]}]
"""

# Grafana's variables as the dashboards use them, at a 1 s scrape interval.
RATE_INTERVAL = "10s"


class Prometheus:
    def __init__(self, cp_admin, sidecar_admin):
        self.dir = Mesh.scratch_dir()
        self.port = free_port()
        config = os.path.join(self.dir, "prometheus.yml")
        with open(config, "w") as f:
            f.write(PROMETHEUS_CONFIG % {"cp": cp_admin, "sidecar": sidecar_admin})
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + config, "--storage.tsdb.path=" + self.dir + "/data",
             "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT)
        assert eventually(self.ready, 30), open(self.log.name).read()

    def get(self, path, **query):
        url = "http://127.0.0.1:%d%s" % (self.port, path)
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")
        except OSError:
            return 0, {}

    def ready(self):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def query(self, expr):
        """(error or None, the result's series)."""
        status, body = self.get("/api/v1/query", query=expr)
        if body.get("status") != "success":
            return body.get("error", "HTTP %d" % status), []
        return None, body["data"]["result"]

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)
        self.log.close()


class Traffic(threading.Thread):
    """10 requests/s through the sidecar to api until stopped (every fifth answered 500);
    bounded: at most 600 requests."""

    def __init__(self, sidecar):
        super().__init__(daemon=True)
        self.sidecar, self.stopped, self.sent, self.errors = sidecar, False, 0, []

    def run(self):
        conn = None
        while not self.stopped and self.sent < 600:
            try:
                conn = conn or http.client.HTTPConnection("127.0.0.1", self.sidecar.outbound,
                                                          timeout=10)
                conn.request("GET", "http://api/status/500" if self.sent % 5 == 4 else "http://api/")
                conn.getresponse().read()
            except Exception as e:  # noqa: BLE001 - counted
                self.errors.append(repr(e))
                conn = None
            self.sent += 1
            time.sleep(0.1)


def targets(dashboard):
    for p in dashboard["panels"]:
        for t in p["targets"]:
            yield p["title"], t["expr"]


def filled(expr, variables):
    expr = expr.replace("$__rate_interval", RATE_INTERVAL)
    for name, value in variables.items():
        expr = expr.replace("$" + name, value)
    return expr


def test_the_dashboards_are_well_formed():
    assert len(DASHBOARDS) == 4, DASHBOARDS
    uids = set()
    for path in DASHBOARDS:
        with open(path) as f:
            d = json.load(f)
        assert d["uid"] not in uids, path
        uids.add(d["uid"])
        assert d["title"].startswith("actormesh / "), path
        assert d["panels"], path
        for p in d["panels"]:
            assert p["title"] and p["type"] in ("timeseries", "stat"), (path, p)
            assert p["datasource"]["uid"] == "${DS_PROMETHEUS}", (path, p["title"])
            assert p["targets"] and all(t["expr"] for t in p["targets"]), (path, p["title"])
            assert set(p["gridPos"]) == {"x", "y", "w", "h"}, (path, p["title"])
        for v in d["templating"]["list"]:
            assert v["query"]["query"].startswith("label_values("), (path, v)


def test_every_panel_query_returns_data_from_prometheus_scraping_the_mesh():
    upstream = Upstream("api-app")
    control, api = free_port(), free_port()
    cp = Mesh(control_plane_node(control, api, BODY % {"api": upstream.port}))
    sidecar = prometheus = traffic = None
    try:
        sidecar = remote_sidecar(control, name="web-1", sidecar="  service_name: web")
        traffic = Traffic(sidecar)
        traffic.start()
        prometheus = Prometheus(cp.admin, sidecar.admin)

        def both_up():
            _, series = prometheus.query('up{job=~"actormesh.*"} == 1')
            return len(series) == 2
        assert eventually(both_up, 30), prometheus.get("/api/v1/targets")

        # The checker fails what Grafana would show as an error or as "No data".
        error, _ = prometheus.query("sum by (service) (rate(actormesh_requests_total[10s])")
        assert error and "parse error" in error, error
        error, series = prometheus.query("sum(rate(actormesh_requests_totl[10s]))")
        assert error is None and series == [], series

        # Variables: each lists the service under traffic; panels get it.
        variables = {}
        for path in DASHBOARDS:
            with open(path) as f:
                d = json.load(f)
            for v in d["templating"]["list"]:
                metric, label = v["query"]["query"][len("label_values("):-1].split(", ")
                assert eventually(lambda: "api" in prometheus.get(
                    "/api/v1/label/%s/values" % label, **{"match[]": metric})[1].get("data", []),
                    20), v
                variables[v["name"]] = "api"

        checked = []
        for path in DASHBOARDS:
            with open(path) as f:
                d = json.load(f)
            for title, expr in targets(d):
                q = filled(expr, variables)
                last = []

                def answers():
                    error, series = prometheus.query(q)
                    last[:] = [error, series]
                    return error is None and series and any(
                        s["value"][1] not in ("NaN",) for s in series)
                assert eventually(answers, 30), (os.path.basename(path), title, q, last)
                checked.append(title)
        assert len(checked) >= 21, checked
        assert not traffic.errors, traffic.errors[:3]
    finally:
        if traffic:
            traffic.stopped = True
            traffic.join(15)
        if prometheus:
            prometheus.stop()
        for m in (sidecar, cp):
            if m:
                m.stop()
        upstream.stop()


if __name__ == "__main__":
    run([test_the_dashboards_are_well_formed,
         test_every_panel_query_returns_data_from_prometheus_scraping_the_mesh])
