"""The control plane's gRPC API through meshctl, with lean sidecars (actormesh-sidecar) in
other processes: apply, get, history, rollback, status with acks, a bad config rejected whole,
optimistic concurrency, the Watch stream, and subscriptions limited to the services a sidecar
uses."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import (Mesh, Upstream, control_plane_node, eventually, free_port,  # noqa: E402
                     meshctl, remote_sidecar,
                     reserve_port, run, status_code as code_of, tool,
                     write_atomically as write)

CONTROL_PLANE_BODY = """
discovery: {{endpoints_file: %(endpoints)s}}
commander: {{audit_log: {dir}/audit.log, store: %(store)s}}
services:
  api:
    timeout: 2s
  other: {{}}
"""


ENDPOINTS = """services:
  api:
    endpoints:
      - {address: 127.0.0.1, port: %d}
  other:
    endpoints:
      - {address: 127.0.0.1, port: %d}
"""

FAULT = """services:
  api:
    timeout: 2s
    routes:
      - name: maintenance
        fault: {abort: {percent: 100, status: 418}}
  other: {}
"""

CALM = """services:
  api:
    timeout: 2s
  other: {}
"""

BAD = """services:
  api:
    timeout: 2s
    routes:
      - name: broken
        match: {path: {regex: "(unclosed"}}
  other: {}
"""


class ControlPlane:
    def __init__(self, n_sidecars=2, uses=((), ()), workers=1):
        self.up, self.other = Upstream("api"), Upstream("other")
        # Reserved: the control plane restarts on them in one test.
        self.control_hold, self.control = reserve_port()
        self.api_hold, self.api = reserve_port()
        self.dir = Mesh.scratch_dir()
        self.endpoints = os.path.join(self.dir, "endpoints.yaml")
        write(self.endpoints, ENDPOINTS % (self.up.port, self.other.port))
        self.store = os.path.join(self.dir, "store")
        self.start_control_plane()
        self.sidecars = [remote_sidecar(self.control, "sc%d" % i, uses[i], workers=workers)
                         for i in range(n_sidecars)]

    def start_control_plane(self):
        self.cp = Mesh(control_plane_node(self.control, self.api, CONTROL_PLANE_BODY % {
            "endpoints": self.endpoints, "store": self.store}), expect_ready=False)
        assert eventually(lambda: meshctl(self.api, "get")[0] == 0, 10), self.cp.log()

    def stop(self):
        for s in self.sidecars:
            s.stop()
        self.cp.stop()
        self.up.stop()
        self.other.stop()
        self.control_hold.close()
        self.api_hold.close()

    def status(self):
        code, out, err = meshctl(self.api, "status", "--json")
        assert code == 0, err
        return json.loads(out)

    def all_acked(self, version):
        st = self.status()
        return len(st["sidecars"]) == len(self.sidecars) and all(
            s["connected"] and s["config_version"] == version for s in st["sidecars"])

    def apply_fault(self, caller="alice"):
        """Applies FAULT (every request to api answered 418) and waits until both sidecars
        enforce it; returns the file applied."""
        fault = os.path.join(self.dir, "fault.yaml")
        write(fault, FAULT)
        code, out, err = meshctl(self.api, "apply", "-f", fault, "--caller", caller)
        assert code == 0 and "config version 2 in force" in out, (code, out, err)
        assert all(eventually(lambda s=s: code_of(s) == "418") for s in self.sidecars)
        return fault

    def audit(self):
        with open(os.path.join(self.cp.dir, "audit.log")) as f:
            return [json.loads(line) for line in f]


def test_an_ack_means_every_worker_routes_with_the_version():
    """A sidecar acknowledges a version only once each of its workers routes with it, so after
    `meshctl apply --wait` the very next request, on any worker of any sidecar, sees it; and
    --wait gives up (exit 4) on a sidecar that cannot apply it."""
    m = ControlPlane(workers=4)
    try:
        assert eventually(lambda: m.all_acked(1)), m.status()
        fault, calm = os.path.join(m.dir, "fault.yaml"), os.path.join(m.dir, "calm.yaml")
        write(fault, FAULT)
        write(calm, CALM)
        for i in range(6):
            document, expected = (fault, "418") if i % 2 == 0 else (calm, "200")
            code, out, err = meshctl(m.api, "apply", "-f", document, "--wait", "10")
            assert code == 0 and "in force on 2 connected sidecars" in out, (code, out, err)
            for s in m.sidecars:
                # A new connection each: the kernel spreads them over the 4 workers.
                codes = [code_of(s) for _ in range(12)]
                assert codes == [expected] * 12, (i, codes)

        # A stopped sidecar stays connected (for the heartbeat timeout) but acks nothing.
        stopped = m.sidecars[1]
        stopped.proc.send_signal(signal.SIGSTOP)
        try:
            code, out, err = meshctl(m.api, "apply", "-f", fault, "--wait", "0.5")
            assert code == 4 and "1 of 2 connected sidecars not at version 8" in err, (
                code, out, err)
        finally:
            stopped.proc.send_signal(signal.SIGCONT)
        assert eventually(lambda: m.all_acked(8)), m.status()
    finally:
        m.stop()


def test_meshctl_applies_a_config_that_every_sidecar_enforces_and_acknowledges():
    m = ControlPlane()
    try:
        assert all(code_of(s) == "200" for s in m.sidecars)
        assert eventually(lambda: m.all_acked(1)), m.status()

        fault = m.apply_fault("alice")
        assert eventually(lambda: m.all_acked(2)), m.status()
        assert all(s["acked_unix_ms"] > 0 for s in m.status()["sidecars"])

        code, out, _ = meshctl(m.api, "get")
        assert code == 0 and "version 2" in out and "api:alice" in out and "418" in out, out
        assert m.cp.metric("actormesh_config_version") == 2
        assert m.cp.metric("actormesh_control_sidecars", state="connected") == 2
        assert m.cp.metric("actormesh_control_sidecars_behind") == 0

        # Re-applying what is in force makes no new version.
        code, out, _ = meshctl(m.api, "apply", "-f", fault, "--caller", "alice")
        assert code == 0 and "config version 2 in force" in out, out
    finally:
        m.stop()


def test_a_bad_config_is_rejected_whole_with_its_field_path_and_changes_nothing():
    m = ControlPlane()
    try:
        fault, bad = m.apply_fault(), os.path.join(m.dir, "bad.yaml")
        write(bad, BAD)

        code, out, err = meshctl(m.api, "apply", "-f", bad)
        assert code == 1, (code, out, err)
        assert "rejected, version 2 stays in force" in err, err
        assert "services.api.routes[0].match.path.regex" in err, err
        time.sleep(0.3)
        assert all(code_of(s) == "418" for s in m.sidecars)
        assert m.status()["config_version"] == 2

        # Endpoints inside the mesh config are refused too: they come from discovery.
        write(bad, "services:\n  api:\n    endpoints: [{address: 127.0.0.1, port: 1}]\n")
        code, _, err = meshctl(m.api, "apply", "-f", bad)
        assert code == 1 and "services.api.endpoints" in err, err

        # Optimistic concurrency: a stale expected version is a conflict.
        code, _, err = meshctl(m.api, "apply", "-f", fault, "--expect-version", "1")
        assert code == 1 and "conflict" in err and "current version is 2" in err, err

        rejected = [a for a in m.audit() if a["event"] == "rejected"]
        assert len(rejected) == 3, rejected
        assert any("regex" in e for e in rejected[0]["errors"]), rejected[0]
    finally:
        m.stop()


def test_rollback_history_and_status_of_a_sidecar_that_went_away():
    m = ControlPlane()
    try:
        m.apply_fault("bob")

        code, out, err = meshctl(m.api, "rollback", "1")
        assert code == 0 and "config version 3 in force" in out, (out, err)
        assert all(eventually(lambda s=s: code_of(s) == "200") for s in m.sidecars)
        assert eventually(lambda: m.all_acked(3)), m.status()

        code, out, _ = meshctl(m.api, "history")
        lines = out.strip().splitlines()[1:]
        assert [l.split()[0] for l in lines] == ["1", "2", "3"], out
        assert "file:" in lines[0] and "api:bob" in lines[1] and "rollback:1" in lines[2], out

        code, _, err = meshctl(m.api, "rollback", "99")
        assert code == 1 and "not in the history" in err, err

        events = [(a["event"], a["version"]) for a in m.audit()]
        assert events[:3] == [("accepted", 1), ("accepted", 2), ("rolled_back", 3)], events
        assert m.audit()[2]["services_changed"] == ["api"], m.audit()[2]

        m.sidecars[1].stop()
        assert eventually(lambda: [s["connected"] for s in m.status()["sidecars"]] ==
                          [True, False]), m.status()
        assert m.cp.metric("actormesh_control_sidecars", state="disconnected") == 1
        code, out, _ = meshctl(m.api, "status")
        assert "sc0" in out and "disconnected" in out, out
    finally:
        m.stop()


def test_a_restarted_control_plane_restores_its_versions_and_sidecars_converge():
    m = ControlPlane()
    try:
        m.apply_fault("carol")

        m.cp.stop(sig=signal.SIGKILL)
        time.sleep(0.3)
        assert all(code_of(s) == "418" for s in m.sidecars)  # serving what they know
        m.start_control_plane()
        code, out, _ = meshctl(m.api, "get")
        assert "version 2" in out and "api:carol" in out, out
        assert eventually(lambda: m.all_acked(2)), m.status()
        assert all(code_of(s) == "418" for s in m.sidecars)

        # History survives too: roll back across the restart.
        assert meshctl(m.api, "rollback", "1")[0] == 0
        assert all(eventually(lambda s=s: code_of(s) == "200") for s in m.sidecars)
        assert eventually(lambda: m.all_acked(3)), m.status()
    finally:
        m.stop()


def test_watch_streams_endpoint_versions_and_sidecars_get_only_what_they_use():
    m = ControlPlane(uses=(["api"], ()))
    watch = subprocess.Popen([tool("meshctl"), "--server", "127.0.0.1:%d" % m.api, "watch",
                              "api"], stdout=subprocess.PIPE, text=True)
    moved = Upstream("moved")
    try:
        code, out, _ = meshctl(m.api, "endpoints", "api")
        assert code == 0 and "api 127.0.0.1:%d" % m.up.port in out and "other" not in out, out
        assert meshctl(m.api, "endpoints", "nothing")[0] == 1

        # sc0 uses only `api`: it knows no endpoint of `other`; sc1 knows both.
        only_api, everything = m.sidecars
        assert code_of(only_api, "other") == "503"
        assert code_of(everything, "other") == "200"
        assert "other" not in json.loads(only_api.admin_get("/config")[1])["endpoints"]
        assert "other" in json.loads(everything.admin_get("/config")[1])["endpoints"]

        write(m.endpoints, ENDPOINTS % (moved.port, m.other.port))
        first = watch.stdout.readline()
        assert first.startswith("# endpoints version"), first
        deadline = time.time() + 8
        seen = ""
        while time.time() < deadline and ("127.0.0.1:%d" % moved.port) not in seen:
            seen += watch.stdout.readline()
        assert "api 127.0.0.1:%d" % moved.port in seen, seen
        assert "other" not in seen, seen

        # A change to `other` alone reaches sc1 and is not sent again to sc0, whose view it
        # leaves as it was (the gateway keeps each sidecar's last view).
        def versions():
            return {s["name"]: s["endpoints_version"] for s in m.status()["sidecars"]}
        assert eventually(lambda: versions()["sc0"] == versions()["sc1"])
        before = versions()
        write(m.endpoints, ENDPOINTS % (moved.port, moved.port))
        assert eventually(lambda: versions()["sc1"] > before["sc1"]), versions()
        assert versions()["sc0"] == before["sc0"], (before, versions())
        assert code_of(everything, "other") == "200" and code_of(only_api) == "200"
    finally:
        watch.kill()
        watch.wait()
        moved.stop()
        m.stop()


def test_the_lean_sidecar_links_no_grpc_and_refuses_control_plane_features():
    libs = subprocess.run(["ldd", tool("actormesh-sidecar")], capture_output=True,
                          text=True).stdout
    assert "libgrpc" not in libs and "libcurl" not in libs, libs
    assert "libgrpc" in subprocess.run(["ldd", harness.ARGS.binary], capture_output=True,
                                       text=True).stdout
    m = Mesh(control_plane_node(free_port(), free_port(), CONTROL_PLANE_BODY % {
        "endpoints": "/x", "store": "/nonexistent"}),
             expect_ready=False, executable="actormesh-sidecar")
    assert m.proc.wait(timeout=10) == 1
    assert "leaves out" in m.log() and "run actormesh" in m.log(), m.log()
    m.stop()


def test_a_control_api_port_in_use_stops_the_node_with_exit_code_1():
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    try:
        body = CONTROL_PLANE_BODY % {"endpoints": "/nonexistent", "store": "/nonexistent"}
        m = Mesh(control_plane_node(free_port(), taken.getsockname()[1], body),
                 expect_ready=False)
        assert m.proc.wait(timeout=15) == 1, m.log()
        assert "control API: cannot listen" in m.log(), m.log()
        m.stop()
    finally:
        taken.close()


def test_meshctl_reports_usage_and_an_unreachable_control_plane():
    code, out, _ = meshctl(free_port(), "--help")
    assert code == 0 and "rollback VERSION" in out
    assert meshctl(free_port(), "frobnicate")[0] == 2
    code, _, err = meshctl(free_port(), "get")
    assert code == 3 and "gRPC code" in err, err


if __name__ == "__main__":
    run([test_meshctl_applies_a_config_that_every_sidecar_enforces_and_acknowledges,
         test_an_ack_means_every_worker_routes_with_the_version,
         test_a_bad_config_is_rejected_whole_with_its_field_path_and_changes_nothing,
         test_rollback_history_and_status_of_a_sidecar_that_went_away,
         test_a_restarted_control_plane_restores_its_versions_and_sidecars_converge,
         test_watch_streams_endpoint_versions_and_sidecars_get_only_what_they_use,
         test_the_lean_sidecar_links_no_grpc_and_refuses_control_plane_features,
         test_a_control_api_port_in_use_stops_the_node_with_exit_code_1,
         test_meshctl_reports_usage_and_an_unreachable_control_plane])
