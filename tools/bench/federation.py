#!/usr/bin/env python3
"""Federation's numbers, with real processes on loopback: N clusters (5 by default), each a
gateway node (discovery, commander, the ingress) with one sidecar process attached and one
payments endpoint of its own (a killable process), every cluster the peer of every other.

- failover: one client sends requests through east's sidecar, one at a time on a keep-alive
  connection; each trial kills east's own endpoint (t0) and records when a request first
  succeeds through a peer cluster and how many failed in between; then restarts it and records
  when east's own endpoint serves again (failback). --trials of each.
- peer down: a gateway SIGSTOPped (sockets open, silent: what a network cut looks like) until
  east's gateway marks it down.
- propagation: a service's export flipped on a peer (meshctl apply) until every other cluster's
  sidecar has it (or no longer has it) in its endpoints: from the exporting gateway's decision
  (its log line, to the ms), and from before meshctl starts (its start and the apply included).
- cross-cluster latency: requests through east's sidecar to its own endpoint, to a peer's
  ingress (east's endpoint gone), and straight to the endpoint; p50/p99 and the CPU of the two
  sidecar processes per request.
Usage: tools/bench/federation.py [--clusters 5] [--trials 20] [--tls]
                                [--binary build/tools/actormesh]
Loopback only; every loop is bounded in count and time."""

import argparse
import datetime
import http.client
import os
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "integration"))
import harness  # noqa: E402
from test_federation import Cluster, endpoint_clusters, services, stop_all  # noqa: E402

NAMES = ["east", "west", "north", "south", "central", "edge1", "edge2", "edge3"]


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


class Client:
    """One keep-alive connection through a sidecar (reconnects after an error)."""

    def __init__(self, proxy_port):
        self.port = proxy_port
        self.conn = None

    def get(self, host="payments"):
        """(status or 0, body)."""
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            self.conn.request("GET", "http://%s/" % host, headers={"Host": host})
            r = self.conn.getresponse()
            return r.status, r.read().decode()
        except (OSError, http.client.HTTPException):
            self.conn = None
            return 0, ""


def until(fn, limit_s):
    deadline = time.time() + limit_s
    while time.time() < deadline:
        if fn():
            return time.time()
    return None


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def failover(east, trials):
    client = Client(east.sidecars[0].outbound)
    over, back, failed = [], [], []
    for _ in range(trials):
        assert until(lambda: client.get()[1] == "east-payments-a", 15), "east does not serve"
        port = east.ups["payments-a"].port
        t0 = time.time()
        east.kill("payments-a")
        failures, served = 0, None
        deadline = t0 + 10
        while time.time() < deadline:
            status, body = client.get()
            if status == 200 and body != "east-payments-a":
                served = time.time()
                break
            failures += status != 200
        assert served, "no failover within 10 s"
        over.append((served - t0) * 1000)
        failed.append(failures)
        east.upstream("payments-a", port=port)
        t1 = time.time()
        done = until(lambda: client.get()[1] == "east-payments-a", 15)
        assert done, "no failback within 15 s"
        back.append((done - t1) * 1000)
    return over, back, failed


def peer_down(east, peer, trials):
    out = []
    for _ in range(trials):
        assert until(lambda: east.peer(peer.name)["up"], 15)
        os.kill(peer.node.proc.pid, signal.SIGSTOP)
        t0 = time.time()
        try:
            done = until(lambda: not east.peer(peer.name)["up"], 5)
        finally:
            os.kill(peer.node.proc.pid, signal.SIGCONT)
        assert done, "not marked down within 5 s"
        out.append((done - t0) * 1000)
    return out


def propagation(clusters, trials):
    source, others = clusters[1], [c for c in clusters if c is not clusters[1]]
    out = []
    for i in range(trials):
        exported = i % 2 == 1  # first withdraw, then export again, and so on
        path = os.path.join(source.dir, "flip.yaml")
        with open(path, "w") as f:
            f.write(services(export_payments=exported))
        t0 = time.time()
        meshctl = subprocess.Popen([harness.tool("meshctl"), "--server", "127.0.0.1:%d" %
                                    source.api, "apply", "-f", path],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        seen = {}
        deadline = t0 + 10
        while len(seen) < len(others) and time.time() < deadline:
            for c in others:
                if c.name not in seen and (source.name in endpoint_clusters(c.sidecars[0])) == \
                        exported:
                    seen[c.name] = time.time()
        assert meshctl.wait(timeout=10) == 0, "meshctl apply failed"
        assert len(seen) == len(others), "not every cluster saw the change"
        exported_at = last_log_time(source.node, "federation: exporting")
        out.append(((max(seen.values()) - t0) * 1000, (max(seen.values()) - exported_at) * 1000))
        time.sleep(0.2)
    return out


def last_log_time(node, text):
    """The time of the node's last log line holding `text` (its timestamp, to the ms)."""
    line = [l for l in node.log().splitlines() if text in l][-1]
    stamp = datetime.datetime.strptime(line.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
    return stamp.replace(tzinfo=datetime.timezone.utc).timestamp()


def latency(east, requests):
    """p50/p99 ms through east's sidecar to its own endpoint, to a peer's ingress, and straight
    to the endpoint; sidecar CPU ms per request of the cross-cluster path (both sidecars)."""
    def run(port, host, n):
        c = Client(port)
        times = []
        for _ in range(n):
            t = time.perf_counter()
            status, _ = c.get(host)
            assert status == 200
            times.append((time.perf_counter() - t) * 1000)
        return times

    up = east.ups["payments-a"]
    direct = run(up.port, "payments", requests)
    local = run(east.sidecars[0].outbound, "payments", requests)
    west = next(p for p in east.peers_started if p.name == "west")
    east.kill("payments-a")
    assert until(lambda: Client(east.sidecars[0].outbound).get()[0] == 200, 10)
    procs = [east.sidecars[0].proc.pid, west.node.proc.pid]
    before = sum(cpu_seconds(p) for p in procs)
    remote = run(east.sidecars[0].outbound, "payments", requests)
    cpu = (sum(cpu_seconds(p) for p in procs) - before) * 1000 / requests
    east.upstream("payments-a", port=up.port)
    return direct, local, remote, cpu


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--clusters", type=int, default=5)
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--tls", action="store_true",
                   help="every node with a certificate of one CA: mutual TLS on the middleman "
                        "links and on the ingress data path")
    p.add_argument("--binary", default=os.path.join(here, "..", "..", "build", "tools",
                                                    "actormesh"))
    args = p.parse_args()
    harness.ARGS = argparse.Namespace(binary=args.binary, sanitized=False, k="",
                                      sidecar_binary="")
    clusters = [Cluster(n) for n in NAMES[:args.clusters]]
    pki = harness.Pki("bench-ca") if args.tls else None
    try:
        for c in clusters:
            c.upstream("payments-a")
        for c in clusters:
            c.peers_started = [o for o in clusters if o is not c]
            c.start(c.peers_started, sidecars=1, pki=pki)
        east = clusters[0]
        want = [""] + sorted(c.name for c in clusters[1:])
        assert until(lambda: all(endpoint_clusters(c.sidecars[0]) ==
                                 sorted([""] + [o.name for o in clusters if o is not c])
                                 for c in clusters), 30), "clusters did not import each other"
        assert endpoint_clusters(east.sidecars[0]) == want
        print("%d clusters, every one the peer of every other%s"
              % (len(clusters), ", mutual TLS everywhere" if pki else ""))
        over, back, failed = failover(east, args.trials)
        print("failover (%d trials): p50 %.0f ms, p99 %.0f ms, max %.0f ms; failed requests per "
              "trial: %s" % (len(over), pct(over, 50), pct(over, 99), max(over), failed))
        print("failback: p50 %.0f ms, p99 %.0f ms" % (pct(back, 50), pct(back, 99)))
        down = peer_down(east, clusters[1], min(args.trials, 10))
        print("hung peer marked down (%d trials): p50 %.0f ms, max %.0f ms"
              % (len(down), pct(down, 50), max(down)))
        prop = propagation(clusters, args.trials)
        whole, after = [p[0] for p in prop], [p[1] for p in prop]
        print("export change on %s reaching the sidecars of the %d other clusters (%d trials): "
              "p50 %.0f ms, p99 %.0f ms from the exporting gateway's decision; p50 %.0f ms, "
              "p99 %.0f ms from meshctl's start (its start and the apply included)"
              % (clusters[1].name, len(clusters) - 1, len(prop), pct(after, 50), pct(after, 99),
                 pct(whole, 50), pct(whole, 99)))
        direct, local, remote, cpu = latency(east, args.requests)
        for name, t in (("direct to the endpoint", direct), ("through east's sidecar", local),
                        ("east's sidecar -> west's ingress", remote)):
            print("%-34s p50 %.3f ms  p99 %.3f ms" % (name, pct(t, 50), pct(t, 99)))
        print("cross-cluster: +%.3f ms p50, +%.3f ms p99 over the local mesh path; sidecar CPU "
              "%.3f ms per request (both sidecars)"
              % (pct(remote, 50) - pct(local, 50), pct(remote, 99) - pct(local, 99), cpu))
    finally:
        stop_all(*clusters)


if __name__ == "__main__":
    main()
