#!/usr/bin/env python3
"""From an etcd put of a new endpoint to the first request a sidecar in another process routes
to it. A real etcd, a control-plane node following it (actormesh) and a lean sidecar
(actormesh-sidecar) attached over CAF remoting; 4 keep-alive clients keep requests flowing
through the sidecar to the service's first endpoint. Each trial puts a second endpoint
(through etcd's JSON gateway, so t0 is taken right before the put leaves) and records when its
first request arrives; then deletes it and waits until it gets no more traffic.
Usage: tools/bench/etcd_propagation.py [--trials 50] [--binary build/tools/actormesh]
Loopback only; every loop is bounded in count and time."""

import argparse
import base64
import http.client
import json
import os
import sys
import threading
import time
import urllib.request

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "integration"))
import harness  # noqa: E402
from test_etcd import CONTROL_PLANE, PREFIX, Etcd  # noqa: E402


def etcd_json(etcd, op, body):
    b64 = lambda s: base64.b64encode(s.encode()).decode()
    data = json.dumps({k: b64(v) for k, v in body.items()}).encode()
    req = urllib.request.Request("http://127.0.0.1:%d/v3/kv/%s" % (etcd.client, op), data=data)
    urllib.request.urlopen(req, timeout=5).read()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=50)
    p.add_argument("--binary", default=os.path.join(here, "..", "..", "build", "tools",
                                                    "actormesh"))
    args = p.parse_args()
    harness.ARGS = argparse.Namespace(binary=args.binary, sanitized=False, k="")
    etcd = Etcd()
    steady, fresh = harness.Upstream("steady"), harness.Upstream("fresh")
    arrivals = []
    orig = fresh.RequestHandlerClass.handle_any

    def recording(handler):
        arrivals.append(time.monotonic())
        orig(handler)

    fresh.RequestHandlerClass = type("Recording", (harness.UpstreamHandler,), {
        "handle_any": recording, "do_GET": recording})
    etcd.put_endpoint("api", "steady", steady.port)
    control = harness.free_port()
    cp = harness.Mesh(CONTROL_PLANE % {"control": control, "etcd": etcd.client,
                                       "prefix": PREFIX}, expect_ready=False)
    sidecar = harness.remote_sidecar(control)
    stop = threading.Event()

    def load():
        conn = http.client.HTTPConnection("127.0.0.1", sidecar.outbound, timeout=5)
        deadline = time.time() + 20 + args.trials
        while not stop.is_set() and time.time() < deadline:
            conn.request("GET", "http://api/")
            conn.getresponse().read()

    clients = [threading.Thread(target=load) for _ in range(4)]
    for c in clients:
        c.start()
    results = []
    try:
        time.sleep(0.5)
        for i in range(args.trials):
            key = PREFIX + "api/fresh-%d" % i
            value = json.dumps({"address": "127.0.0.1", "port": fresh.port})
            t0 = time.monotonic()
            etcd_json(etcd, "put", {"key": key, "value": value})
            deadline = t0 + 5
            while time.monotonic() < deadline and not any(t > t0 for t in arrivals):
                time.sleep(0.001)
            first = [t for t in arrivals if t > t0]
            if first:
                results.append((first[0] - t0) * 1000.0)
                print("trial %2d: %.1f ms" % (i + 1, results[-1]), flush=True)
            etcd_json(etcd, "deleterange", {"key": key})
            quiet_since = time.monotonic()
            while time.monotonic() - quiet_since < 0.2 and time.monotonic() < deadline + 5:
                if arrivals and arrivals[-1] > quiet_since:
                    quiet_since = time.monotonic()
                time.sleep(0.01)
    finally:
        stop.set()
        for c in clients:
            c.join()
        sidecar.stop()
        cp.stop()
        etcd.stop()
        steady.stop()
        fresh.stop()
    results.sort()
    if not results:
        print("no trial saw the new endpoint")
        return 1
    pick = lambda q: results[min(len(results) - 1, int(q * len(results)))]
    print("etcd put → first routed request over %d trials: p50 %.1f ms, p99 %.1f ms, max %.1f ms"
          % (len(results), pick(0.5), pick(0.99), results[-1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
