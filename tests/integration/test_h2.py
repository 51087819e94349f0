"""HTTP/2 through the sidecar: h2c (prior knowledge) on the same listener as HTTP/1.1, told
apart by the connection preface; HTTP/2 clients to HTTP/1.1 upstreams and HTTP/1.1 clients to
HTTP/2 upstreams (`protocol: http2`, a real nghttpd); flow control that keeps memory bounded
with a slow reader; a drain that sends GOAWAY and lets a stream finish; a protocol error that
gets GOAWAY and a clean close."""

import atexit
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Mesh, Upstream, curl, eventually, free_port, node_head, run  # noqa: E402

RSS_LIMIT_KIB = 48 * 1024  # windows and watermarks: a few hundred KiB per stream and way

NODE = node_head("h2", "  access_log: {{enabled: true, path: {access_log}}}\n"
                       "  drain_timeout: 10s\n") + """services:
  api:
    timeout: 30s
    routes:
      - name: broken
        match: {{path: {{prefix: /broken}}}}
        fault: {{abort: {{percent: 100, status: 418}}}}
    endpoints:
      - {{address: 127.0.0.1, port: %(h1)d}}
  files:
    protocol: http2
    timeout: 30s
    endpoints:
      - {{address: 127.0.0.1, port: %(h2)d}}
"""


class Nghttpd:
    """A real HTTP/2-only (h2c) server serving files from a folder."""

    def __init__(self, files, max_streams=100):
        self.dir = Mesh.scratch_dir()
        for name, size in files.items():
            with open(os.path.join(self.dir, name), "wb") as f:
                f.truncate(size)  # sparse: no disk used
        self.port = free_port()
        self.proc = subprocess.Popen(["nghttpd", "--no-tls", "-a", "127.0.0.1", "-d", self.dir,
                                      "-m", str(max_streams), str(self.port)],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        atexit.register(self.stop)  # also when a test fails before it stops it
        assert eventually(self.listening, 5), "nghttpd did not start"

    def listening(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


class Setup:
    def __init__(self, files=None, max_streams=100):
        self.h1 = Upstream()
        self.h2 = Nghttpd(files or {"small": 1000}, max_streams)
        self.mesh = Mesh(NODE % {"h1": self.h1.port, "h2": self.h2.port},
                         executable="actormesh-sidecar")

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.mesh.outbound, path)

    def stop(self):
        self.mesh.stop()
        self.h1.stop()
        self.h2.stop()


def h2c(*args, host, timeout=30):
    """curl over h2c (prior knowledge) straight at the sidecar's listener, naming the service
    in :authority."""
    return curl("--http2-prior-knowledge", "-H", "host: " + host, *args, timeout=timeout)


def test_h2c_and_http1_share_the_listener_and_reach_both_kinds_of_upstream():
    s = Setup()
    try:
        fmt = "%{http_code} %{http_version} %{size_download}"
        # HTTP/2 client, HTTP/1.1 upstream (the harness's JSON echo)
        code, out, err = h2c("-o", "/dev/null", "-w", fmt, s.url("/hello"), host="api")
        assert code == 0 and out.startswith(b"200 2 ") and int(out.split()[-1]) > 0, (out, err)
        # HTTP/2 client, HTTP/2 upstream (nghttpd, which speaks nothing else)
        code, out, err = h2c("-o", "/dev/null", "-w", fmt, s.url("/small"), host="files")
        assert code == 0 and out == b"200 2 1000", (out, err)
        # HTTP/1.1 client (explicit proxy), HTTP/2 upstream
        code, out, err = curl("-o", "/dev/null", "-w", fmt, "http://files/small",
                              proxy=s.mesh.proxy)
        assert code == 0 and out == b"200 1.1 1000", (out, err)
        # HTTP/1.1 client, HTTP/1.1 upstream, on the same port as the HTTP/2 ones
        code, out, err = curl("-o", "/dev/null", "-w", fmt, "http://api/x", proxy=s.mesh.proxy)
        assert code == 0 and out.startswith(b"200 1.1 "), (out, err)
        # Many streams on few connections (h2load: 4 connections x 10 streams).
        r = subprocess.run(["h2load", "-n", "2000", "-c", "4", "-m", "10", "-H", ":authority: api",
                            s.url("/")], capture_output=True, text=True, timeout=60)
        assert "2000 succeeded, 0 failed" in r.stdout and "2000 2xx" in r.stdout, r.stdout
        assert s.mesh.metric("actormesh_requests_total", service="api", code="200") >= 2002
        assert s.mesh.metric("actormesh_requests_total", service="files", code="200") == 2
    finally:
        s.stop()


def test_an_h2_stream_the_sidecar_fails_gets_its_error_and_the_connection_goes_on():
    s = Setup()
    try:
        # Two streams on one connection (nghttp): the route of /broken aborts it (the sidecar
        # answers 418 on that stream), the other one still reaches the upstream.
        r = subprocess.run(["nghttp", "-v", "-H", ":authority: api", s.url("/broken/x"),
                            s.url("/fine")], capture_output=True, text=True, timeout=30)
        statuses = [l.split()[-1] for l in r.stdout.splitlines() if ":status:" in l]
        assert sorted(statuses) == ["200", "418"], r.stdout
        assert "x-actormesh-error: fault_injected" in r.stdout, r.stdout
        assert s.mesh.metric("actormesh_requests_total", service="api", code="418") == 1
        assert [r[1] for r in s.h1.requests] == ["/fine"], s.h1.requests
    finally:
        s.stop()


def test_an_upstream_full_of_streams_gets_another_connection():
    """nghttpd takes 2 streams per connection: 10 streams at once need 5 connections."""
    s = Setup(max_streams=2)
    try:
        r = subprocess.run(["h2load", "-n", "300", "-c", "1", "-m", "10", "-H",
                            ":authority: files", s.url("/small")],
                           capture_output=True, text=True, timeout=60)
        assert "300 succeeded, 0 failed" in r.stdout and "300 2xx" in r.stdout, r.stdout
        opened = s.mesh.metric("actormesh_upstream_connections_total", event="opened")
        assert 5 <= opened <= 20, opened  # several, and reused rather than one per request
    finally:
        s.stop()


def rss_watcher(mesh, stop):
    peak = [0]

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], mesh.status("VmRSS"))
            time.sleep(0.05)

    t = threading.Thread(target=watch)
    t.start()
    return t, peak


def test_slow_readers_slow_the_upstream_through_windows_not_buffers():
    """256 MiB files from a fast HTTP/2 upstream to clients reading at 4 MiB/s for 2 s: the
    sidecar holds a few windows' worth, not the file."""
    size = 256 << 20
    s = Setup({"big": size})
    stop = threading.Event()
    watcher, peak = rss_watcher(s.mesh, stop)
    try:
        for client in (["--http2-prior-knowledge", "-H", "host: files", s.url("/big")],
                       ["-x", s.mesh.proxy, "http://files/big"]):
            code, out, err = curl("--limit-rate", "4M", "-o", "/dev/null", "-w",
                                  "%{size_download}", *client, timeout=2)
            assert code == 28 and 0 < int(out) < size, (code, out, err)  # cut by --max-time
        stop.set()
        watcher.join()
        assert peak[0] < RSS_LIMIT_KIB or not harness.check_memory(), "peak RSS %d KiB" % peak[0]
        # The same file at full speed arrives whole, over HTTP/2 both ways.
        code, out, err = h2c("-o", "/dev/null", "-w", "%{size_download}", s.url("/big"),
                             host="files", timeout=60)
        assert code == 0 and int(out) == size, (out, err)
        assert s.mesh.status("VmHWM") < RSS_LIMIT_KIB or not harness.check_memory()
    finally:
        stop.set()
        s.stop()


def test_a_drain_sends_goaway_and_lets_the_stream_in_flight_finish():
    s = Setup()
    try:
        # 2 s at 16 MiB/s; more than the sockets' buffers on both sides hold, so the stream is
        # still in flight in the sidecar when the drain begins.
        size = 32 << 20
        slow = subprocess.Popen(["curl", "-sS", "-v", "--http2-prior-knowledge", "-H",
                                 "host: api", "--limit-rate", "16M", "-o", "/dev/null", "-w",
                                 "%{http_code} %{size_download}", "--max-time", "20",
                                 s.url("/download/%d" % size)],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert eventually(lambda: s.mesh.metric("actormesh_active_requests", service="api") >= 1)
        s.mesh.proc.send_signal(__import__("signal").SIGTERM)
        assert eventually(lambda: "draining" in s.mesh.log(), 5)
        code, out, err = h2c("-o", "/dev/null", s.url("/late"), host="api", timeout=5)
        assert code == 7, (code, err)  # the listener is closed: connection refused
        out, err = slow.communicate(timeout=30)
        assert out == b"200 %d" % size, (out, err)
        assert b"GOAWAY" in err, err  # curl -v reports the server's GOAWAY
        assert s.mesh.proc.wait(timeout=10) == 0
    finally:
        s.stop()


def test_a_protocol_error_gets_goaway_and_a_clean_close():
    s = Setup()
    try:
        preface = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
        settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
        # A DATA frame on stream 0 is a connection error (PROTOCOL_ERROR).
        bad = b"\x00\x00\x01\x00\x00\x00\x00\x00\x00x"
        data, clean = harness.raw_exchange(s.mesh.outbound, preface + settings + bad)
        frames = []
        while len(data) >= 9:
            length = int.from_bytes(data[:3], "big")
            frames.append(data[3])
            data = data[9 + length:]
        assert 7 in frames and clean, (frames, clean)  # GOAWAY, then FIN
        code, _, err = h2c("-o", "/dev/null", s.url("/after"), host="api")
        assert code == 0, err  # the sidecar serves on
    finally:
        s.stop()


class Mute:
    """A TCP server that resets every connection it accepts without a byte sent: what a
    client meets on a connection the kernel accepted for a server killed before it did."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return  # stopped
            self.accepted += 1
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            c.close()

    def stop(self):
        self.sock.close()


def test_an_http2_upstream_closed_before_its_preface_is_retried_like_a_refused_connect():
    # The server never spoke HTTP/2, so it served nothing: a POST, which the policy does not
    # retry after a reset, is retried on the other endpoint as after a refused connect.
    mute, h2 = Mute(), Nghttpd({"small": 1000})
    mesh = Mesh(node_head("h2") + """services:
  files:
    protocol: http2
    retry: {{attempts: 3, backoff: {{base: 1ms, max: 2ms}}, on: [connect_failure]}}
    endpoints:
      - {{address: 127.0.0.1, port: %d}}
      - {{address: 127.0.0.1, port: %d}}
""" % (mute.port, h2.port), executable="actormesh-sidecar")
    try:
        for _ in range(4):
            code, out, err = curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "-d", "x",
                                  "http://files/small", proxy=mesh.proxy)
            assert out == b"200", (out, err)
        assert mute.accepted >= 1, "the mute endpoint was never tried"
    finally:
        mesh.stop()
        mute.stop()
        h2.stop()


if __name__ == "__main__":
    run([test_h2c_and_http1_share_the_listener_and_reach_both_kinds_of_upstream,
         test_an_h2_stream_the_sidecar_fails_gets_its_error_and_the_connection_goes_on,
         test_an_upstream_full_of_streams_gets_another_connection,
         test_slow_readers_slow_the_upstream_through_windows_not_buffers,
         test_a_drain_sends_goaway_and_lets_the_stream_in_flight_finish,
         test_a_protocol_error_gets_goaway_and_a_clean_close,
         test_an_http2_upstream_closed_before_its_preface_is_retried_like_a_refused_connect])
