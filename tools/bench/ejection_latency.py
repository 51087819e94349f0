#!/usr/bin/env python3
"""Outlier ejection latency under load: from the moment an endpoint's failure streak reaches
the threshold (the upstream sends its N-th consecutive 5xx) to the last request any worker
sends it. Each trial runs a fresh sidecar (2 workers) in front of a good and a bad endpoint
under closed-loop load from 8 keep-alive clients, then turns the bad one bad.
Usage: tools/bench/ejection_latency.py [--trials 30] [--binary build/tools/actormesh]
Loopback only; every loop is bounded in count and time."""

import argparse
import http.client
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "integration"))
import harness  # noqa: E402

STREAK = 3
NODE = """
name: bench
roles: [sidecar, discovery, commander]
sidecar:
  workers: 2
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  access_log: {{enabled: false}}
services:
  api:
    outlier: {{consecutive_5xx: %d, base_ejection: 60s, interval: 10s}}
    endpoints:
      - {{address: 127.0.0.1, port: %d}}
      - {{address: 127.0.0.1, port: %d}}
"""


def trial(binary_args):
    good, bad = harness.Upstream("good"), harness.Upstream("bad")
    arrivals = []  # (time, status) of requests at the bad endpoint
    orig = bad.RequestHandlerClass.handle_any

    def recording(handler):
        arrivals.append((time.monotonic(), bad.status_override))
        orig(handler)

    bad.RequestHandlerClass = type("Recording", (harness.UpstreamHandler,), {
        "handle_any": recording, "do_GET": recording})
    mesh = harness.Mesh(NODE % (STREAK, good.port, bad.port))
    stop = threading.Event()

    def load():
        conn = http.client.HTTPConnection("127.0.0.1", mesh.outbound, timeout=5)
        deadline = time.time() + 5
        while not stop.is_set() and time.time() < deadline:
            conn.request("GET", "http://api/")
            conn.getresponse().read()

    clients = [threading.Thread(target=load) for _ in range(8)]
    for c in clients:
        c.start()
    time.sleep(0.5)
    bad.status_override = 500
    time.sleep(1.0)
    stop.set()
    for c in clients:
        c.join()
    mesh.stop()
    good.stop()
    bad.stop()
    failing = [t for t, status in arrivals if status == 500]
    if len(failing) < STREAK:
        return None
    return (failing[-1] - failing[STREAK - 1]) * 1000.0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=30)
    p.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", "..",
                                                    "build", "tools", "actormesh"))
    args = p.parse_args()
    harness.ARGS = argparse.Namespace(binary=args.binary, sanitized=False, k="")
    results = []
    for i in range(args.trials):
        ms = trial(args)
        if ms is not None:
            results.append(ms)
            print("trial %2d: %.1f ms" % (i + 1, ms), flush=True)
    results.sort()
    if not results:
        print("no trial reached the threshold")
        return 1
    pick = lambda q: results[min(len(results) - 1, int(q * len(results)))]
    print("ejection latency over %d trials: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (len(results), pick(0.5), pick(0.99), results[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
