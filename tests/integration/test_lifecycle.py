"""Start-up, configuration, live endpoint edits, the inbound listener and graceful shutdown."""

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Mesh, Upstream, curl, free_port, run  # noqa: E402

NODE = """
name: test
roles: [sidecar, discovery, commander]
sidecar:
  service_name: orders
  workers: 2
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  inbound: {{address: 127.0.0.1, port: {inbound}, app_address: 127.0.0.1, app_port: %(app)d}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  drain_timeout: %(drain)s
  access_log: {{enabled: false}}
discovery:
  endpoints_file: {dir}/endpoints.yaml
services:
  api:
    timeout: 10s
"""

ENDPOINTS = """services:
  api:
    endpoints:
      - {address: 127.0.0.1, port: %d}
"""


def node(app_port, drain="5s"):
    return NODE % {"app": app_port, "drain": drain}


def in_background(fn):
    result = {}
    t = threading.Thread(target=lambda: result.setdefault("r", fn()))
    t.start()
    return t, result


def test_sigterm_lets_in_flight_requests_finish_then_exits_zero():
    up = Upstream()
    mesh = Mesh(node(up.port), extra_files={"endpoints.yaml": ENDPOINTS % up.port})
    try:
        t, result = in_background(lambda: curl("-w", " %{http_code}", "http://api/slow/1500",
                                               proxy=mesh.proxy))
        time.sleep(0.4)
        mesh.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        # No longer accepting: the listeners are closed.
        try:
            socket.create_connection(("127.0.0.1", mesh.outbound), timeout=1).close()
            accepted = True
        except OSError:
            accepted = False
        assert not accepted, "still accepting while draining"
        t.join()
        code, out, err = result["r"]
        assert code == 0 and out.endswith(b" 200"), (code, out, err)
        assert mesh.stop() == 0
    finally:
        mesh.stop()
        up.stop()


def test_the_drain_deadline_bounds_shutdown():
    up = Upstream()
    mesh = Mesh(node(up.port, drain="300ms"), extra_files={"endpoints.yaml": ENDPOINTS % up.port})
    try:
        t, result = in_background(lambda: curl("-w", "%{http_code}", "http://api/slow/8000",
                                               proxy=mesh.proxy))
        time.sleep(0.3)
        start = time.time()
        assert mesh.stop() == 0
        assert time.time() - start < 4, "shutdown waited past the drain deadline"
        t.join(timeout=10)
        # The request the deadline cut saw its connection close with no response (curl 52:
        # empty reply), when the deadline came, not after the upstream's 8 s.
        code, out, err = result["r"]
        assert code == 52 and out == b"000", (code, out, err)
        assert time.time() - start < 4
    finally:
        up.stop()


def test_quitquitquit_drains_in_flight_requests_and_exits():
    up = Upstream()
    mesh = Mesh(node(up.port), extra_files={"endpoints.yaml": ENDPOINTS % up.port})
    try:
        t, result = in_background(lambda: curl("-w", " %{http_code}", "http://api/slow/1500",
                                               proxy=mesh.proxy))
        time.sleep(0.4)
        code, out, err = curl("-X", "POST", "http://127.0.0.1:%d/quitquitquit" % mesh.admin)
        assert code == 0 and out == b"draining\n", (out, err)
        assert harness.eventually(lambda: curl("http://api/", proxy=mesh.proxy)[0] == 7, 3), \
            "still accepting while draining"
        assert mesh.proc.poll() is None, "exited with a request in flight"
        t.join(timeout=10)
        code, out, err = result["r"]
        assert code == 0 and out.endswith(b" 200"), (code, out, err)
        assert mesh.proc.wait(timeout=10) == 0
    finally:
        mesh.stop()  # and, in the sanitizer build, its report is read
        up.stop()


def test_endpoint_file_edits_apply_live_and_bad_edits_keep_the_last_good_set():
    a, b, c = Upstream("a"), Upstream("b"), Upstream("c")
    mesh = Mesh(node(free_port()), extra_files={"endpoints.yaml": ENDPOINTS % a.port})
    path = os.path.join(mesh.dir, "endpoints.yaml")
    try:
        assert json.loads(curl("http://api/", proxy=mesh.proxy)[1])["name"] == "a"
        # A slow request in flight on `a` while the file moves the service to `b`.
        t, result = in_background(lambda: curl("-w", " %{http_code}", "http://api/slow/1000",
                                               proxy=mesh.proxy))
        time.sleep(0.2)
        with open(path + ".tmp", "w") as f:
            f.write(ENDPOINTS % b.port)
        os.rename(path + ".tmp", path)
        deadline = time.time() + 5
        name = None
        while time.time() < deadline:
            name = json.loads(curl("http://api/", proxy=mesh.proxy)[1])["name"]
            if name == "b":
                break
            time.sleep(0.05)
        assert name == "b", "edit not applied"
        t.join()
        assert result["r"][1].endswith(b" 200"), result
        # A broken edit is rejected with the field path; `b` keeps serving.
        with open(path, "w") as f:
            f.write("services:\n  api:\n    endpoints:\n      - {address: 127.0.0.1, port: 0}\n")
        deadline = time.time() + 5
        while "rejected" not in mesh.log() and time.time() < deadline:
            time.sleep(0.05)
        assert "services.api.endpoints[0].port: must be 1..65535" in mesh.log(), mesh.log()
        for _ in range(5):
            assert json.loads(curl("http://api/", proxy=mesh.proxy)[1])["name"] == "b"
        # And a good edit after it applies again.
        with open(path, "w") as f:
            f.write(ENDPOINTS % c.port)
        deadline = time.time() + 5
        while time.time() < deadline:
            if json.loads(curl("http://api/", proxy=mesh.proxy)[1])["name"] == "c":
                break
            time.sleep(0.05)
        assert json.loads(curl("http://api/", proxy=mesh.proxy)[1])["name"] == "c"
    finally:
        mesh.stop()
        for u in (a, b, c):
            u.stop()


def test_inbound_listener_proxies_to_the_local_app_and_counts_it():
    app = Upstream("app")
    mesh = Mesh(node(app.port), extra_files={"endpoints.yaml": ENDPOINTS % free_port()})
    try:
        code, out, err = curl("http://127.0.0.1:%d/inbound?x=1" % mesh.inbound)
        assert code == 0, err
        got = json.loads(out)
        assert got["name"] == "app" and got["path"] == "/inbound?x=1"
        assert got["headers"]["Host"] == "127.0.0.1:%d" % mesh.inbound
        assert "x-request-id" in got["headers"]
        assert mesh.metric("actormesh_requests_total", service="orders", direction="inbound",
                           code="200") == 1
    finally:
        mesh.stop()
        app.stop()


def thread_wakeups(pid):
    """Voluntary context switches of every thread of the process: how often it slept and woke."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
        except FileNotFoundError:
            pass  # a thread that ended
    return total


def test_an_idle_sidecar_sleeps_instead_of_waking_every_tick():
    # Two workers and the admin listener each run an event loop; with nothing to do (no timer
    # due, no request) they sleep until their next timer instead of every 10 ms tick, and
    # the flush tick stops once what a request recorded is sent (before: over 300 wake-ups a
    # second in all; now the CAF threads' few).
    app = Upstream("app")
    mesh = Mesh(node(app.port), extra_files={"endpoints.yaml": ENDPOINTS % app.port})
    try:
        code, out, err = curl("-o", "/dev/null", "http://api/", proxy=mesh.proxy)
        assert code == 0, err
        time.sleep(1)
        before = thread_wakeups(mesh.proc.pid)
        time.sleep(3)
        woke = thread_wakeups(mesh.proc.pid) - before
        print("     idle for 3 s: %d wake-ups" % woke)
        assert woke < 200, woke
    finally:
        mesh.stop()
        app.stop()


def released_memory(log):
    """(snapshot, anonymous KB before, after) of each release of freed memory the log reports."""
    pattern = re.compile(r"returned freed memory to the OS after snapshot (\d+): "
                         r"anonymous (\d+) -> (\d+) KB")
    return [tuple(map(int, m.groups())) for m in pattern.finditer(log)]


def test_the_sidecar_returns_the_memory_a_snapshot_rebuild_freed():
    # Parsing a config and building snapshots for 50 services (each with a breaker, outlier
    # detection and retries, as tools/bench/idle.sh runs) leaves about 1 MB of freed chunks in
    # glibc's arenas; once the snapshot is in force the sidecar gives their pages back, so an
    # idle sidecar does not keep its start-up garbage resident. Without the release, the
    # anonymous memory before and after is the same.
    services = "".join("  svc-%d:\n    retry: {{attempts: 2, on: [connect_failure]}}\n"
                       "    breaker: {{consecutive_failures: 5}}\n"
                       "    outlier: {{consecutive_5xx: 5}}\n" % i for i in range(50))
    endpoints = "services:\n" + "".join(
        "  svc-%d:\n    endpoints:\n      - {address: 127.0.0.1, port: %d}\n" % (i, port)
        for i, port in enumerate(range(20000, 20050)))
    mesh = Mesh(node(free_port()) + services, extra_files={"endpoints.yaml": endpoints})
    try:
        deadline = time.time() + 10
        while not released_memory(mesh.log()) and time.time() < deadline:
            time.sleep(0.1)
        releases = released_memory(mesh.log())
        assert releases, mesh.log()[-2000:]
        snapshot, before, after = releases[0]
        print("     after snapshot %d: anonymous %d -> %d KB" % (snapshot, before, after))
        if harness.check_memory():  # a sanitizer's allocator is not glibc's
            assert before - after >= 256, releases
        # A later change (an endpoint edit) is released too, once, after its snapshot.
        path = os.path.join(mesh.dir, "endpoints.yaml")
        with open(path + ".tmp", "w") as f:
            f.write(endpoints.replace("port: 20000", "port: 20100"))
        os.rename(path + ".tmp", path)
        deadline = time.time() + 10
        while len(released_memory(mesh.log())) < 2 and time.time() < deadline:
            time.sleep(0.1)
        later = released_memory(mesh.log())
        assert len(later) == 2 and later[1][0] > snapshot, later
    finally:
        mesh.stop()


def test_a_bad_config_starts_nothing_and_names_the_field():
    mesh = Mesh("roles: [sidecar, discovery, commander]\nsidecar:\n  outbound: {{port: 99999}}\n",
                expect_ready=False)
    assert mesh.proc.wait(timeout=10) == 1
    log = mesh.log()
    assert "node.yaml: sidecar.outbound.port: must be 0..65535, got '99999'" in log, log
    assert "nothing started" in log
    mesh.stop()


def test_command_line_errors_and_help():
    r = subprocess.run([harness.ARGS.binary, "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2 and "unknown arguments" in r.stderr
    r = subprocess.run([harness.ARGS.binary, "--config", "/nonexistent.yaml"], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "/nonexistent.yaml: cannot open file" in r.stderr, r.stderr
    r = subprocess.run([harness.ARGS.binary, "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "actormesh demo" in r.stdout
    r = subprocess.run([harness.ARGS.binary, "demo", "--outbound-port", "0"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "bad demo option" in r.stderr


def test_a_port_in_use_fails_start_up_clearly():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        mesh = Mesh(node(free_port()).replace("port: {outbound}", "port: %d" % port),
                    extra_files={"endpoints.yaml": ENDPOINTS % free_port()}, expect_ready=False)
        assert mesh.proc.wait(timeout=10) == 1
        assert "sidecar: cannot start: bind: Address already in use" in mesh.log(), mesh.log()
        mesh.stop()


def test_the_audit_log_records_accepted_and_rejected_configs():
    up = Upstream()
    base = node(up.port) + "commander: {{audit_log: {dir}/audit.log}}\n"
    mesh = Mesh(base, extra_files={"endpoints.yaml": ENDPOINTS % up.port})
    audit_path = os.path.join(mesh.dir, "audit.log")

    def lines():
        if not os.path.exists(audit_path):
            return []
        with open(audit_path) as f:
            return [json.loads(line) for line in f]

    try:
        deadline = time.time() + 5
        while len(lines()) < 1 and time.time() < deadline:
            time.sleep(0.05)
        first = lines()[0]
        assert first["event"] == "accepted" and first["version"] == 1
        assert first["services_added"] == ["api"] and first["source"].startswith("file:")
        mesh.rewrite_config(base.replace("timeout: 10s", "timeout: 3s"))
        while len(lines()) < 2 and time.time() < deadline + 5:
            time.sleep(0.05)
        second = lines()[1]
        assert second["event"] == "accepted" and second["version"] == 2
        assert second["services_changed"] == ["api"] and second["services_added"] == []
        mesh.rewrite_config(base.replace("timeout: 10s", "timeout: soon"))
        while len(lines()) < 3 and time.time() < deadline + 10:
            time.sleep(0.05)
        third = lines()[2]
        assert third["event"] == "rejected" and third["version"] == 2
        assert any("services.api.timeout" in e for e in third["errors"]), third
    finally:
        mesh.stop()
        up.stop()


if __name__ == "__main__":
    run([test_sigterm_lets_in_flight_requests_finish_then_exits_zero,
         test_the_drain_deadline_bounds_shutdown,
         test_quitquitquit_drains_in_flight_requests_and_exits,
         test_endpoint_file_edits_apply_live_and_bad_edits_keep_the_last_good_set,
         test_inbound_listener_proxies_to_the_local_app_and_counts_it,
         test_an_idle_sidecar_sleeps_instead_of_waking_every_tick,
         test_the_sidecar_returns_the_memory_a_snapshot_rebuild_freed,
         test_a_bad_config_starts_nothing_and_names_the_field,
         test_command_line_errors_and_help,
         test_a_port_in_use_fails_start_up_clearly,
         test_the_audit_log_records_accepted_and_rejected_configs])
