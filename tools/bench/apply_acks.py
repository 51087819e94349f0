#!/usr/bin/env python3
"""From `meshctl apply` to the acks of 1,000 sidecars. A control-plane node (actormesh) and
sim_sidecars processes (4 × 250 sidecar actors attached over CAF remoting, each parsing every
document and acknowledging it, as a sidecar's control link does). Each trial applies a new
config with meshctl and polls `meshctl status` until every sidecar acknowledged it; a
sidecar's latency is its ack time (stamped by the control plane) minus the moment meshctl
started. Also prints the control plane's RSS per attached sidecar.
Usage: tools/bench/apply_acks.py [--trials 20] [--sidecars 1000] [--processes 4]
       [--build build]
Loopback only; every loop is bounded in count and time."""

import argparse
import json
import os
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tests", "integration"))
import harness  # noqa: E402

CONTROL_PLANE_BODY = """
commander: {{audit_log: "off"}}
services:
  api: {{timeout: 2s}}
"""

DOCUMENT = """services:
  api:
    timeout: %dms
    retry: {attempts: 2, on: [connect_failure, gateway_error]}
  web:
    timeout: 5s
"""


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--trials", type=int, default=20)
    p.add_argument("--sidecars", type=int, default=1000)
    p.add_argument("--processes", type=int, default=4)
    p.add_argument("--build", default=os.path.join(here, "..", "..", "build"))
    args = p.parse_args()
    binary = os.path.join(args.build, "tools", "actormesh")
    harness.ARGS = argparse.Namespace(binary=binary, sanitized=False, k="")
    meshctl = os.path.join(args.build, "tools", "meshctl", "meshctl")
    sim = os.path.join(args.build, "tools", "bench", "sim_sidecars")
    control, api = harness.free_port(), harness.free_port()
    server = "127.0.0.1:%d" % api
    cp = harness.Mesh(harness.control_plane_node(control, api, CONTROL_PLANE_BODY),
                      expect_ready=False)

    def status():
        out = subprocess.run([meshctl, "--server", server, "status", "--json"],
                             capture_output=True, text=True, timeout=10).stdout
        return json.loads(out) if out else {"sidecars": []}

    def wait_acked(version, limit):
        deadline = time.time() + limit
        while time.time() < deadline:
            st = status()
            acked = [s for s in st["sidecars"] if s["config_version"] >= version]
            if len(acked) >= args.sidecars:
                return st
            time.sleep(0.02)
        return None

    sims = []
    try:
        deadline = time.time() + 10
        while subprocess.run([meshctl, "--server", server, "get"], capture_output=True).returncode:
            assert time.time() < deadline, cp.log()
            time.sleep(0.1)
        time.sleep(0.3)
        before = rss_kib(cp.proc.pid)
        per = args.sidecars // args.processes
        for i in range(args.processes):
            sims.append(subprocess.Popen([sim, "127.0.0.1", str(control), str(per), "p%d-" % i],
                                         stderr=subprocess.DEVNULL))
        assert wait_acked(1, 60), "not every sidecar attached and acknowledged version 1"
        after = rss_kib(cp.proc.pid)
        print("control plane RSS: %.1f MB before, %.1f MB with %d sidecars: %.1f KiB per sidecar"
              % (before / 1024, after / 1024, args.sidecars, (after - before) / args.sidecars))
        path = os.path.join(cp.dir, "doc.yaml")
        latencies, trial_p99 = [], []
        for t in range(args.trials):
            with open(path, "w") as f:
                f.write(DOCUMENT % (1000 + t))
            t0 = time.time() * 1000.0
            out = subprocess.run([meshctl, "--server", server, "apply", "-f", path],
                                 capture_output=True, text=True, timeout=10).stdout
            version = int(out.split("config version ")[1].split()[0])
            st = wait_acked(version, 10)
            assert st, "trial %d: not every sidecar acknowledged version %d" % (t, version)
            lat = sorted(s["acked_unix_ms"] - t0 for s in st["sidecars"])
            latencies += lat
            trial_p99.append(lat[int(0.99 * (len(lat) - 1))])
            print("trial %2d: version %d, all %d acked, p50 %.0f ms, p99 %.0f ms, last %.0f ms"
                  % (t + 1, version, len(lat), lat[len(lat) // 2], trial_p99[-1], lat[-1]),
                  flush=True)
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        print("apply → ack over %d trials × %d sidecars: p50 %.0f ms, p99 %.0f ms, max %.0f ms"
              % (args.trials, args.sidecars, pick(0.5), pick(0.99), latencies[-1]))
    finally:
        for s in sims:
            s.terminate()
            s.wait()
        cp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
