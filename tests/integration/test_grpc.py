"""gRPC through the sidecar in explicit mode: a real grpc++ client (tests/grpc/echo_client)
that finds the sidecar only through its http_proxy environment variable sends CONNECT
echo:50051; the sidecar answers it, reads the HTTP/2 inside, and serves it call by call with
the mesh service's policies, each call over an HTTP/2 connection to an endpoint (real grpc++
servers, tests/grpc/echo_server). Every kind of call, large messages, deadlines (the client's,
and grpc-timeout enforced by the sidecar) and cancellations that reach the server, status codes
in trailers, many concurrent streams on one connection, calls balanced one by one, errors the
sidecar produces as gRPC statuses, retries on gRPC status codes, outlier detection counting
gRPC failures, gRPC metrics, and a drain that lets a stream finish."""

import atexit
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import Mesh, curl, eventually, free_port, node_head, run, test_program  # noqa: E402

SIDECAR = node_head("grpc", "  access_log: {{enabled: false}}\n  drain_timeout: 5s\n")

NODE = SIDECAR + """services:
  echo:
    timeout: 500ms  # an HTTP timeout: gRPC streams are cut only by their own deadline
    connect_timeout: 1s
    outlier: {{consecutive_gateway_errors: 2, base_ejection: 30s}}
    endpoints:
%(endpoints)s
  capped:
    stream_timeout: 300ms
    endpoints:
%(endpoints)s
  empty: {{}}
"""


class EchoServer:
    def __init__(self, name, unavailable=False):
        self.name = name
        self.port = free_port()
        self.proc = subprocess.Popen([test_program("echo_server"), name, str(self.port)] +
                                     (["unavailable"] if unavailable else []),
                                     stdout=subprocess.PIPE, text=True)
        atexit.register(self.stop)  # also when a test fails before it stops it
        assert self.proc.stdout.readline().strip() == "listening"
        self.lines = []

    def cancelled(self):
        """Lines the server printed for cancelled calls (read without blocking forever)."""
        os.set_blocking(self.proc.stdout.fileno(), False)
        chunk = self.proc.stdout.read() or ""
        self.lines += [l for l in chunk.splitlines() if l.startswith("cancelled")]
        return self.lines

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


def call(mesh, mode, n=1, target="echo:50051"):
    env = dict(os.environ, http_proxy=mesh.proxy)
    env.pop("no_proxy", None)
    env.pop("NO_PROXY", None)
    out = subprocess.run([test_program("echo_client"), target, mode, str(n)], env=env,
                         capture_output=True, text=True, timeout=60).stdout
    return json.loads(out)


class Setup:
    def __init__(self, n_servers=2):
        self.servers = [EchoServer("s%d" % i) for i in range(n_servers)]
        lines = "\n".join("      - {{address: 127.0.0.1, port: %d}}" % s.port for s in self.servers)
        self.mesh = Mesh(NODE % {"endpoints": lines}, executable="actormesh-sidecar")

    def stop(self):
        self.mesh.stop()
        for s in self.servers:
            s.stop()


def test_every_kind_of_call_passes_through_with_its_status_and_trailers():
    s = Setup()
    try:
        r = call(s.mesh, "unary", 100)
        assert r["status"] == 0 and r["bytes"] == 100, r
        r = call(s.mesh, "unary", 6 * 1024 * 1024)  # several MiB in one message
        assert r["status"] == 0 and r["bytes"] == 6 * 1024 * 1024, r
        r = call(s.mesh, "server-stream", 200)
        assert r["status"] == 0 and r["replies"] == 200, r
        r = call(s.mesh, "client-stream", 300)
        assert r["status"] == 0 and r["replies"] == 300 and r["bytes"] == 300 * 1024, r
        r = call(s.mesh, "bidi", 50)
        assert r["status"] == 0 and r["replies"] == 50, r
        r = call(s.mesh, "fail", 8)  # RESOURCE_EXHAUSTED, sent in the server's trailers
        assert r["status"] == 8 and "failing as asked" in r["message"], r
        r = call(s.mesh, "concurrent", 200)  # 200 streams at once on one connection
        assert r["status"] == 0 and r["replies"] == 200, r
        assert s.mesh.metric("actormesh_requests_total", service="echo", code="200") >= 206
        # Every call is counted with its gRPC status, the failed one too.
        assert s.mesh.metric("actormesh_grpc_calls_total", service="echo", grpc_code="0") >= 205
        assert s.mesh.metric("actormesh_grpc_calls_total", service="echo", grpc_code="8") == 1
        r = call(s.mesh, "slow-stream", 8)  # 0.8 s: longer than the service's HTTP timeout
        assert r["status"] == 0 and r["replies"] == 8, r
        # ... but not than a stream_timeout: the sidecar ends the call (and resets upstream).
        r = call(s.mesh, "slow-stream", 8, target="capped:50051")
        assert r["status"] == 4 and 1 <= r["replies"] < 8, r
    finally:
        s.stop()


def test_deadlines_and_cancellations_reach_the_server():
    s = Setup(n_servers=1)
    try:
        r = call(s.mesh, "deadline", 300)
        assert r["status"] == 4, r  # DEADLINE_EXCEEDED
        r = call(s.mesh, "cancel", 300)
        assert r["status"] == 1, r  # CANCELLED
        server = s.servers[0]
        assert eventually(lambda: len(server.cancelled()) >= 2), server.lines
    finally:
        s.stop()


def grpc_frame(message):
    return b"\x00" + struct.pack(">I", len(message)) + message


def test_the_sidecar_enforces_grpc_timeout():
    """An endpoint that accepts connections and never answers: the call's grpc-timeout (sent
    by curl, which does not enforce it) is the sidecar's deadline, answered DEADLINE_EXCEEDED."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # never accepted: connects succeed, nothing is ever answered
    node = NODE % {"endpoints": "      - {{address: 127.0.0.1, port: %d}}" % silent.getsockname()[1]}
    mesh = Mesh(node, executable="actormesh-sidecar")
    body = os.path.join(Mesh.scratch_dir(), "call.grpc")
    with open(body, "wb") as f:
        f.write(grpc_frame(b"\x0a\x02hi"))
    try:
        started = time.time()
        code, out, err = curl("--http2-prior-knowledge", "-H", "host: echo:50051",
                              "-H", "content-type: application/grpc", "-H", "te: trailers",
                              "-H", "grpc-timeout: 300m", "--data-binary", "@" + body,
                              "-D", "-", "-o", "/dev/null",
                              "http://127.0.0.1:%d/actormesh.test.Echo/Unary" % mesh.outbound)
        elapsed = time.time() - started
        head = out.decode()
        assert code == 0, err
        assert "grpc-status: 4" in head and "x-actormesh-error: upstream_timeout" in head, head
        assert 0.25 < elapsed < 3, elapsed
    finally:
        mesh.stop()
        silent.close()


def test_calls_are_balanced_one_by_one_and_a_service_without_endpoints_is_unavailable():
    s = Setup()
    try:
        r = call(s.mesh, "sequential", 6)  # one channel, one connection: calls alternate
        assert r["status"] == 0 and r["replies"] == 6 and set(r["servers"]) == {"s0", "s1"}, r
        r = call(s.mesh, "channels", 6)
        assert r["status"] == 0 and set(r["servers"]) == {"s0", "s1"}, r
        r = call(s.mesh, "unary", 10, target="empty:50051")
        # UNAVAILABLE, produced by the sidecar as a gRPC status (not a bare HTTP 503).
        assert r["status"] == 14 and "no_endpoint" in r["message"], r
        assert s.mesh.metric("actormesh_requests_total", service="empty", code="503") == 1
        assert s.mesh.metric("actormesh_grpc_calls_total", service="empty", grpc_code="14") == 1
        # An endpoint that went away: its connections fail until outlier detection ejects it
        # (2 gateway errors in a row; the decision reaches the worker asynchronously, so a
        # call or two more may still fail), then every connection goes to the other one.
        # Without ejection, round robin would fail every other call to the end.
        s.servers[1].stop()
        results = [call(s.mesh, "unary", 10)["status"] for _ in range(12)]
        assert results.count(14) <= 4 and results[-6:] == [0] * 6, results
    finally:
        s.stop()


RETRY_NODE = SIDECAR + """services:
  retrying:
    retry: {{attempts: 2, on: [unavailable], backoff: {{base: 1ms, max: 5ms}}}}
    endpoints:
%(endpoints)s
  ejecting:
    outlier: {{consecutive_5xx: 2, base_ejection: 30s}}
    endpoints:
%(endpoints)s
"""


def test_retries_on_grpc_statuses_and_outlier_detection_counts_grpc_failures():
    """Two endpoints, one failing every call with UNAVAILABLE (in its trailers-only answer)."""
    bad, good = EchoServer("bad", unavailable=True), EchoServer("good")
    lines = "\n".join("      - {{address: 127.0.0.1, port: %d}}" % e.port for e in (bad, good))
    mesh = Mesh(RETRY_NODE % {"endpoints": lines}, executable="actormesh-sidecar")
    try:
        # retry on: [unavailable]: a call that reached `bad` goes again, to `good`.
        r = call(mesh, "sequential", 10, target="retrying:50051")
        assert r["failures"] == 0 and r["servers"] == ["good"], r
        assert mesh.metric("actormesh_grpc_calls_total", service="retrying", grpc_code="0") == 10
        # No retries here: `bad` fails calls (server errors for the detector) until ejected.
        first = call(mesh, "sequential", 4, target="ejecting:50051")
        assert first["failures"] >= 1 and first["status"] == 14, first
        assert eventually(
            lambda: call(mesh, "sequential", 4, target="ejecting:50051")["failures"] == 0)
        assert mesh.metric("actormesh_grpc_calls_total", service="ejecting", grpc_code="14") >= 2
    finally:
        mesh.stop()
        bad.stop()
        good.stop()


def test_a_drain_lets_a_stream_in_flight_finish_and_refuses_new_connections():
    s = Setup(n_servers=1)
    env = dict(os.environ, http_proxy=s.mesh.proxy)
    stream = subprocess.Popen([test_program("echo_client"), "echo:50051", "slow-stream", "15"],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        # SIGTERM while the stream is in flight (it lasts 1.5 s), not after it ended.
        assert eventually(lambda: s.mesh.metric("actormesh_active_requests", service="echo",
                                                direction="outbound") >= 1, 5)
        s.mesh.proc.send_signal(signal.SIGTERM)
        assert eventually(lambda: "draining" in s.mesh.log(), 5)
        assert stream.poll() is None, "the stream ended before the drain began"
        late = call(s.mesh, "unary", 10)
        assert late["status"] == 14, late  # the listener is closed: no new connections
        assert s.mesh.proc.poll() is None, "exited with the stream in flight"
        r = json.loads(stream.communicate(timeout=20)[0])
        assert r["status"] == 0 and r["replies"] == 15, r  # 1.5 s of stream, all of it
        assert s.mesh.proc.wait(timeout=10) == 0
    finally:
        stream.kill()
        s.stop()


if __name__ == "__main__":
    run([test_every_kind_of_call_passes_through_with_its_status_and_trailers,
         test_deadlines_and_cancellations_reach_the_server,
         test_the_sidecar_enforces_grpc_timeout,
         test_calls_are_balanced_one_by_one_and_a_service_without_endpoints_is_unavailable,
         test_retries_on_grpc_statuses_and_outlier_detection_counts_grpc_failures,
         test_a_drain_lets_a_stream_in_flight_finish_and_refuses_new_connections])
