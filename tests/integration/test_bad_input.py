"""Malformed and hostile input: every case gets a 4xx (or a 502 for a bad upstream), the
connection is closed cleanly, and the process keeps serving."""

import os
import select
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Mesh, Upstream, curl, raw_exchange, run, status_of  # noqa: E402

def node(port):
    return harness.api_node(port, sidecar="header_timeout: 400ms\nmax_header_bytes: 8192")

# (name, request bytes, expected status, expected error kind)
CORPUS = [
    ("garbage", b"\x00\x01\x02\x03garbage\r\n\r\n", 400, b"bad_request"),
    ("bad version", b"GET http://api/ HTTP/7.1\r\nHost: api\r\n\r\n", 400, b"bad_request"),
    ("space in header name", b"GET http://api/ HTTP/1.1\r\nBad Header: x\r\n\r\n", 400,
     b"bad_request"),
    ("control char in value", b"GET http://api/ HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400,
     b"bad_request"),
    ("bare CR in head", b"GET http://api/ HTTP/1.1\r\nHost: api\r\n\rX: 1\r\n\r\n", 400,
     b"bad_request"),
    ("HTTP/0.9", b"GET http://api/\r\n\r\n", 400, b"bad_request"),
    ("CL and TE", b"POST http://api/ HTTP/1.1\r\nHost: api\r\nContent-Length: 4\r\n"
                  b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, b"bad_framing"),
    ("two different CL", b"POST http://api/ HTTP/1.1\r\nHost: api\r\nContent-Length: 3\r\n"
                         b"Content-Length: 5\r\n\r\nabcde", 400, b"bad_framing"),
    ("unknown coding", b"POST http://api/ HTTP/1.1\r\nHost: api\r\n"
                       b"Transfer-Encoding: gzip\r\n\r\n", 400, b"bad_framing"),
    ("TE list", b"POST http://api/ HTTP/1.1\r\nHost: api\r\n"
                b"Transfer-Encoding: chunked, identity\r\n\r\n", 400, b"bad_framing"),
    ("negative CL", b"POST http://api/ HTTP/1.1\r\nHost: api\r\nContent-Length: -1\r\n\r\n",
     400, None),
    ("bad chunk size", b"POST http://api/ HTTP/1.1\r\nHost: api\r\nTransfer-Encoding: chunked"
                       b"\r\n\r\nzz\r\nhello\r\n0\r\n\r\n", 400, b"bad_request"),
    ("relative target without Host", b"GET /x HTTP/1.1\r\n\r\n", 400, b"bad_request"),
    ("asterisk target", b"GET * HTTP/1.1\r\nHost: api\r\n\r\n", 400, b"bad_request"),
    ("bad port", b"GET http://api:99999/ HTTP/1.1\r\nHost: api\r\n\r\n", 400, b"bad_request"),
    ("huge header", b"GET http://api/ HTTP/1.1\r\nHost: api\r\nX-Big: " + b"a" * 20000 +
     b"\r\n\r\n", 431, b"header_too_large"),
    ("many headers", b"GET http://api/ HTTP/1.1\r\n" + b"".join(
        b"X-%d: %s\r\n" % (i, b"v" * 40) for i in range(400)) + b"\r\n", 431,
     b"header_too_large"),
]


def test_each_malformed_request_gets_a_4xx_and_a_clean_close():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        for name, payload, status, kind in CORPUS:
            data, clean = raw_exchange(mesh.outbound, payload)
            assert status_of(data) == status, (name, data[:200])
            if kind:
                assert b"x-actormesh-error: " + kind in data, (name, data[:300])
            assert b"Connection: close" in data, name
            assert clean, "%s: connection reset instead of closed" % name
        # Only the request whose head was sound reached the upstream (its body failed
        # later, and the upstream connection was closed under it); the proxy still serves.
        assert all(r[0] == "POST" for r in up.requests), up.requests
        code, out, err = curl("http://api/after", proxy=mesh.proxy)
        assert code == 0 and b'"/after"' in out, err
        assert mesh.proc.poll() is None
    finally:
        assert mesh.stop() == 0
        up.stop()


def test_a_request_after_a_bad_one_on_the_same_connection_is_not_served():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        payload = (b"GET http://api/ HTTP/1.1\r\nHost: api\r\nContent-Length: 1\r\n"
                   b"Content-Length: 2\r\n\r\nxGET http://api/smuggled HTTP/1.1\r\nHost: api\r\n\r\n")
        data, clean = raw_exchange(mesh.outbound, payload)
        assert status_of(data) == 400 and clean
        assert data.count(b"HTTP/1.1") == 1
        assert not [r for r in up.requests if "smuggled" in r[1]]
    finally:
        mesh.stop()
        up.stop()


def test_an_ambiguous_response_from_the_upstream_is_502():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        code, out, err = curl("-i", "http://api/smuggle", proxy=mesh.proxy)
        assert out.startswith(b"HTTP/1.1 502"), out
        assert b"x-actormesh-error: upstream_bad_response" in out
    finally:
        mesh.stop()
        up.stop()


def test_a_client_that_sends_its_head_too_slowly_is_cut():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        with socket.create_connection(("127.0.0.1", mesh.outbound), timeout=5) as s:
            start = time.time()
            s.sendall(b"GET http://api/ HTTP/1.1\r\n")
            data = b""
            for _ in range(30):  # one header byte every 100 ms: never finishes in time
                try:
                    s.sendall(b"X")
                except OSError:
                    pass
                ready, _, _ = select.select([s], [], [], 0.1)
                if ready:
                    try:
                        data += s.recv(4096)
                    except OSError:
                        break
                if b"\r\n\r\n" in data:
                    break
            elapsed = time.time() - start
        assert status_of(data) == 408, data
        assert b"x-actormesh-error: header_timeout" in data
        assert elapsed < 2.0, elapsed
        # An idle connection that never sends a byte is closed too, but only after the
        # idle timeout; a prompt client is unaffected.
        code, out, err = curl("http://api/ok", proxy=mesh.proxy)
        assert code == 0, err
    finally:
        mesh.stop()
        up.stop()


def test_many_bad_connections_leave_no_leak():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        for _ in range(3):
            for name, payload, status, kind in CORPUS:
                raw_exchange(mesh.outbound, payload)
        before = mesh.status("VmRSS")
        for _ in range(10):
            for name, payload, status, kind in CORPUS:
                raw_exchange(mesh.outbound, payload)
        after = mesh.status("VmRSS")
        if harness.check_memory():
            assert after - before < 2048, (before, after)  # KiB
        deadline = time.time() + 5
        while mesh.metric("actormesh_downstream_connections") != 0 and time.time() < deadline:
            time.sleep(0.05)
        assert mesh.metric("actormesh_downstream_connections") == 0
    finally:
        mesh.stop()
        up.stop()


if __name__ == "__main__":
    run([test_each_malformed_request_gets_a_4xx_and_a_clean_close,
         test_a_request_after_a_bad_one_on_the_same_connection_is_not_served,
         test_an_ambiguous_response_from_the_upstream_is_502,
         test_a_client_that_sends_its_head_too_slowly_is_cut,
         test_many_bad_connections_leave_no_leak])
