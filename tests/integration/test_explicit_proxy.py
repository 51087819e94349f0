"""The outbound listener as an explicit proxy (HTTP_PROXY): routing, headers, pooling, errors."""

import collections
import json
import os
import sys
import zlib

sys.path.insert(0, os.path.dirname(__file__))
from harness import Mesh, Upstream, curl, free_port, pattern_crc, run  # noqa: E402

NODE = """
name: test
roles: [sidecar, discovery, commander]
sidecar:
  workers: 2
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  unknown_hosts: %(unknown)s
  access_log: {{enabled: true, path: {access_log}}}
services:
  api:
    timeout: %(timeout)s
    endpoints:
%(endpoints)s
"""


def node(endpoints, unknown="passthrough", timeout="5s"):
    eps = "\n".join("      - {{address: 127.0.0.1, port: %d, weight: %d, labels: {{version: %s}}}}"
                    % (port, weight, version) for port, weight, version in endpoints)
    return NODE % {"endpoints": eps, "unknown": unknown, "timeout": timeout}


def test_demo_answers_through_http_proxy_env():
    mesh = Mesh(demo=True)
    try:
        code, out, err = curl("http://echo/hello", env_proxy=mesh.proxy)
        assert code == 0, err
        assert out.startswith(b"echo v"), out
        assert b"GET /hello" in out
    finally:
        assert mesh.stop() == 0


def test_weighted_round_robin_across_endpoints():
    a, b = Upstream("a"), Upstream("b")
    mesh = Mesh(node([(a.port, 3, "v1"), (b.port, 1, "v2")]))
    try:
        seen = collections.Counter()
        for _ in range(40):
            code, out, err = curl("http://api/", proxy=mesh.proxy)
            assert code == 0, err
            seen[json.loads(out)["name"]] += 1
        # Two workers each run their own smooth round robin, so the split is exact per worker
        # and the total is within one cycle of 3:1.
        assert 26 <= seen["a"] <= 34 and seen["a"] + seen["b"] == 40, seen
    finally:
        mesh.stop()
        a.stop()
        b.stop()


def test_request_headers_are_rewritten_for_the_upstream():
    up = Upstream()
    mesh = Mesh(node([(up.port, 1, "v1")]))
    try:
        code, out, err = curl("http://api/h?q=1", "-H", "Connection: keep-alive, X-Hop",
                              "-H", "X-Hop: secret", "-H", "Keep-Alive: timeout=5",
                              "-H", "X-Forwarded-For: 10.1.1.1", "-H", "X-Keep: yes",
                              "-H", "Proxy-Connection: keep-alive", proxy=mesh.proxy)
        assert code == 0, err
        got = json.loads(out)
        headers = {k.lower(): v for k, v in got["headers"].items()}
        assert got["path"] == "/h?q=1"
        assert headers["host"] == "api"
        assert headers["x-keep"] == "yes"
        assert "x-hop" not in headers and "keep-alive" not in headers
        assert "proxy-connection" not in headers
        assert headers["x-forwarded-for"] == "10.1.1.1, 127.0.0.1"
        assert len(headers["x-request-id"]) == 36  # generated UUID

        code, out, _ = curl("http://api/", "-H", "x-request-id: my-id-1", proxy=mesh.proxy)
        assert json.loads(out)["headers"]["x-request-id"] == "my-id-1"
    finally:
        mesh.stop()
        up.stop()


def test_request_ids_can_be_left_to_the_clients():
    up = Upstream()
    mesh = Mesh(node([(up.port, 1, "v1")]).replace(
        "sidecar:\n", "sidecar:\n  generate_request_id: false\n", 1))
    try:
        code, out, err = curl("http://api/", proxy=mesh.proxy)
        assert code == 0 and "x-request-id" not in {
            k.lower() for k in json.loads(out)["headers"]}, (out, err)
        code, out, _ = curl("http://api/", "-H", "x-request-id: my-id-2", proxy=mesh.proxy)
        assert json.loads(out)["headers"]["x-request-id"] == "my-id-2"
    finally:
        mesh.stop()
        up.stop()


def test_upstream_connections_are_pooled_and_reused():
    up = Upstream()
    mesh = Mesh(node([(up.port, 1, "v1")]))
    try:
        urls = ["http://api/%d" % i for i in range(20)]
        code, _, err = curl("-v", *urls, proxy=mesh.proxy)
        assert code == 0, err
        assert err.count("Re-using existing connection") >= 19, "client connection not kept alive"
        opened = mesh.metric("actormesh_upstream_connections_total", event="opened")
        reused = mesh.metric("actormesh_upstream_connections_total", event="reused")
        assert opened <= 2 and reused >= 18, (opened, reused)
    finally:
        mesh.stop()
        up.stop()


def test_bodies_pass_both_ways_with_each_framing():
    up = Upstream()
    mesh = Mesh(node([(up.port, 1, "v1")]))
    try:
        body = os.urandom(300_000)
        path = os.path.join(mesh.dir, "body")
        with open(path, "wb") as f:
            f.write(body)
        code, out, err = curl("--data-binary", "@" + path, "http://api/post", proxy=mesh.proxy)
        assert code == 0, err
        got = json.loads(out)
        assert (got["body_bytes"], got["crc32"]) == (len(body), zlib.crc32(body)), got
        code, out, err = curl("-H", "Transfer-Encoding: chunked", "--data-binary", "@" + path,
                              "http://api/post", proxy=mesh.proxy)
        assert code == 0, err
        got = json.loads(out)
        assert (got["body_bytes"], got["crc32"]) == (len(body), zlib.crc32(body)), got
        assert got["headers"].get("Transfer-Encoding") == "chunked"
        for kind in ("download", "chunked", "close"):
            code, out, err = curl("http://api/%s/1234567" % kind, proxy=mesh.proxy)
            assert code == 0, (kind, err)
            assert len(out) == 1234567, (kind, len(out))
            assert zlib.crc32(out) == pattern_crc(1234567), kind
        code, out, err = curl("-I", "http://api/download/1000", proxy=mesh.proxy)
        assert code == 0 and b"Content-Length: 1000" in out, out
        code, out, err = curl("-o", "/dev/null", "-w", "%{http_code}", "http://api/status/204",
                              proxy=mesh.proxy)
        assert out == b"204", out
    finally:
        mesh.stop()
        up.stop()


def test_expect_100_continue_is_relayed():
    up = Upstream()
    mesh = Mesh(node([(up.port, 1, "v1")]))
    try:
        code, out, err = curl("-v", "-H", "Expect: 100-continue", "--data-binary", "x" * 5000,
                              "http://api/post", proxy=mesh.proxy)
        assert code == 0, err
        assert "HTTP/1.1 100 Continue" in err, err
        assert json.loads(out)["body_bytes"] == 5000
    finally:
        mesh.stop()
        up.stop()


def test_unknown_hosts_pass_through_by_address_and_by_name():
    up = Upstream("outside")
    mesh = Mesh(node([(free_port(), 1, "v1")]))
    try:
        for host in ("127.0.0.1", "localhost"):
            code, out, err = curl("http://%s:%d/x" % (host, up.port), proxy=mesh.proxy)
            assert code == 0, err
            assert json.loads(out)["name"] == "outside"
        code, out, err = curl("-i", "http://no-such-host.invalid/", proxy=mesh.proxy)
        assert code == 0, err
        assert out.startswith(b"HTTP/1.1 502"), out
        assert b"x-actormesh-error: resolve_failed" in out, out
    finally:
        mesh.stop()
        up.stop()


def test_unknown_hosts_are_rejected_when_configured():
    mesh = Mesh(node([(free_port(), 1, "v1")], unknown="reject"))
    try:
        code, out, err = curl("-i", "http://elsewhere:8080/", proxy=mesh.proxy)
        assert code == 0, err
        assert out.startswith(b"HTTP/1.1 502"), out
        assert b"x-actormesh-error: unknown_service" in out
        assert b"host elsewhere is no mesh service" in out
    finally:
        mesh.stop()


def test_refused_upstream_is_503_and_silent_upstream_is_504():
    up = Upstream()
    refused = free_port()
    mesh = Mesh(node([(refused, 1, "v1")]))
    try:
        code, out, err = curl("-i", "http://api/", proxy=mesh.proxy)
        assert out.startswith(b"HTTP/1.1 503"), out
        assert b"x-actormesh-error: upstream_connect_failed" in out
        assert b"Connection refused" in out
    finally:
        mesh.stop()
    mesh = Mesh(node([(up.port, 1, "v1")], timeout="300ms"))
    try:
        code, out, err = curl("-i", "http://api/slow/2000", proxy=mesh.proxy)
        assert out.startswith(b"HTTP/1.1 504"), out
        assert b"x-actormesh-error: upstream_timeout" in out
        code, out, err = curl("-i", "http://api/slow/10", proxy=mesh.proxy)
        assert out.startswith(b"HTTP/1.1 200"), out
    finally:
        mesh.stop()
        up.stop()


def test_metrics_and_access_log_record_each_request():
    up = Upstream()
    mesh = Mesh(node([(up.port, 1, "v1")]))
    try:
        for path in ("/a", "/status/404", "/status/503"):
            curl("-o", "/dev/null", "http://api" + path, proxy=mesh.proxy)
        assert mesh.metric("actormesh_requests_total", service="api", code="200") == 1
        assert mesh.metric("actormesh_requests_total", service="api", code="404") == 1
        assert mesh.metric("actormesh_requests_total", service="api", code="503") == 1
        assert mesh.metric("actormesh_request_duration_seconds_count", service="api") == 3
        assert mesh.metric("actormesh_actor_messages_total", actor="sidecar") >= 2
        assert mesh.metric("actormesh_actor_messages_total", actor="worker") >= 2
        _, text = mesh.admin_get("/metrics")
        assert 'actormesh_actor_mailbox_size{actor="discovery"}' in text
        status, cfg = mesh.admin_get("/config")
        assert status == 200
        cfg = json.loads(cfg)
        assert cfg["endpoints"]["api"][0]["port"] == up.port
        assert mesh.admin_get("/healthz")[0] == 200
    finally:
        assert mesh.stop() == 0
        up.stop()
    with open(mesh.access_log) as f:
        lines = [json.loads(line) for line in f]
    # Two workers flush their own buffers, so lines come in per-worker order.
    lines.sort(key=lambda l: l["time"])
    assert sorted(l["status"] for l in lines) == [200, 404, 503], lines
    first = next(l for l in lines if l["status"] == 200)
    for key in ("time", "request_id", "method", "authority", "path", "status", "bytes_in",
                "bytes_out", "duration_us", "upstream", "error"):
        assert key in first, key
    assert first["upstream"] == "127.0.0.1:%d" % up.port and first["path"] == "/a"


if __name__ == "__main__":
    run([test_demo_answers_through_http_proxy_env,
         test_weighted_round_robin_across_endpoints,
         test_request_headers_are_rewritten_for_the_upstream,
         test_request_ids_can_be_left_to_the_clients,
         test_upstream_connections_are_pooled_and_reused,
         test_bodies_pass_both_ways_with_each_framing,
         test_expect_100_continue_is_relayed,
         test_unknown_hosts_pass_through_by_address_and_by_name,
         test_unknown_hosts_are_rejected_when_configured,
         test_refused_upstream_is_503_and_silent_upstream_is_504,
         test_metrics_and_access_log_record_each_request])
