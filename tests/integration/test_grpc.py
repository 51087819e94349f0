"""gRPC through the sidecar in explicit mode: a real grpc++ client (tests/grpc/echo_client)
that finds the sidecar only through its http_proxy environment variable sends CONNECT
echo:50051; the sidecar tunnels the connection to an endpoint of the mesh service `echo` (real
grpc++ servers, tests/grpc/echo_server). Every kind of call, large messages, deadlines and
cancellations that reach the server, status codes in trailers, many concurrent streams on one
connection, and connections balanced over the endpoints."""

import json
import os
import signal
import subprocess
import sys

sys.path.insert(0, os.path.dirname(__file__))
from harness import Mesh, eventually, free_port, run, test_program  # noqa: E402

NODE = """
name: grpc
roles: [sidecar, discovery, commander]
sidecar:
  workers: 1
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  access_log: {{enabled: false}}
  drain_timeout: 5s
services:
  echo:
    connect_timeout: 1s
    outlier: {{consecutive_gateway_errors: 2, base_ejection: 30s}}
    endpoints:
%(endpoints)s
  empty: {{}}
"""


class EchoServer:
    def __init__(self, name):
        self.name = name
        self.port = free_port()
        self.proc = subprocess.Popen([test_program("echo_server"), name, str(self.port)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "listening"
        self.lines = []

    def cancelled(self):
        """Lines the server printed for cancelled calls (read without blocking forever)."""
        os.set_blocking(self.proc.stdout.fileno(), False)
        chunk = self.proc.stdout.read() or ""
        self.lines += [l for l in chunk.splitlines() if l.startswith("cancelled")]
        return self.lines

    def stop(self):
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
        assert s.mesh.metric("actormesh_requests_total", service="echo", code="200") >= 7
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


def test_connections_are_balanced_and_a_service_without_endpoints_is_unavailable():
    s = Setup()
    try:
        r = call(s.mesh, "channels", 6)
        assert r["status"] == 0 and set(r["servers"]) == {"s0", "s1"}, r
        r = call(s.mesh, "unary", 10, target="empty:50051")
        assert r["status"] == 14, r  # UNAVAILABLE: the sidecar answered CONNECT with 503
        assert s.mesh.metric("actormesh_requests_total", service="empty", code="503") == 1
        # An endpoint that went away: its connections fail until outlier detection ejects it
        # (2 gateway errors in a row; the decision reaches the worker asynchronously, so a
        # call or two more may still fail), then every connection goes to the other one.
        # Without ejection, round robin would fail every other call to the end.
        s.servers[1].stop()
        results = [call(s.mesh, "unary", 10)["status"] for _ in range(12)]
        assert results.count(14) <= 4 and results[-6:] == [0] * 6, results
    finally:
        s.stop()


def test_a_drain_lets_a_stream_in_flight_finish_and_refuses_new_connections():
    s = Setup(n_servers=1)
    env = dict(os.environ, http_proxy=s.mesh.proxy)
    stream = subprocess.Popen([test_program("echo_client"), "echo:50051", "slow-stream", "15"],
                              env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert eventually(lambda: s.mesh.metric("actormesh_requests_total", service="echo") >= 1)
        s.mesh.proc.send_signal(signal.SIGTERM)
        assert eventually(lambda: "draining" in s.mesh.log(), 5)
        late = call(s.mesh, "unary", 10)
        assert late["status"] == 14, late  # the listener is closed: no new connections
        r = json.loads(stream.communicate(timeout=20)[0])
        assert r["status"] == 0 and r["replies"] == 15, r  # 1.5 s of stream, all of it
        assert s.mesh.proc.wait(timeout=10) == 0
    finally:
        stream.kill()
        s.stop()


if __name__ == "__main__":
    run([test_every_kind_of_call_passes_through_with_its_status_and_trailers,
         test_deadlines_and_cancellations_reach_the_server,
         test_connections_are_balanced_and_a_service_without_endpoints_is_unavailable,
         test_a_drain_lets_a_stream_in_flight_finish_and_refuses_new_connections])
