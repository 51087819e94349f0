"""CONNECT tunnels and protocol switches (WebSocket) carry raw bytes both ways."""

import json
import os
import socket
import socketserver
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Mesh, Upstream, curl, read_head, run  # noqa: E402

def node(port):
    return harness.api_node(port)


class EchoHandler(socketserver.BaseRequestHandler):
    def handle(self):
        while True:
            data = self.request.recv(65536)
            if not data:
                return
            self.request.sendall(data)


def start_echo_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def echo_round_trip(sock, payload):
    sock.sendall(payload)
    got = b""
    while len(got) < len(payload):
        piece = sock.recv(65536)
        assert piece, "tunnel closed early"
        got += piece
    return got


def test_connect_tunnels_raw_bytes_to_any_host():
    echo = start_echo_server()
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        port = echo.server_address[1]
        with socket.create_connection(("127.0.0.1", mesh.outbound), timeout=5) as s:
            s.sendall(b"CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (port, port))
            head, rest = read_head(s)
            assert head.startswith(b"HTTP/1.1 200"), head
            assert rest == b""
            payload = os.urandom(200_000)
            assert echo_round_trip(s, payload) == payload
        # curl's own tunnelling (as HTTPS_PROXY uses it) through CONNECT to a plain HTTP host.
        code, out, err = curl("-p", "http://localhost:%d/via-tunnel" % up.port, proxy=mesh.proxy)
        assert code == 0, err
        assert json.loads(out)["path"] == "/via-tunnel"
        # A refused CONNECT target is a 503 naming the cause.
        with socket.create_connection(("127.0.0.1", mesh.outbound), timeout=5) as s:
            s.sendall(b"CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n")
            head, _ = read_head(s)
            assert head.startswith(b"HTTP/1.1 503"), head
    finally:
        mesh.stop()
        up.stop()
        echo.shutdown()


def test_websocket_upgrade_switches_to_a_tunnel():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        with socket.create_connection(("127.0.0.1", mesh.outbound), timeout=5) as s:
            s.sendall(b"GET http://api/upgrade HTTP/1.1\r\nHost: api\r\nConnection: Upgrade\r\n"
                      b"Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
                      b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")
            head, rest = read_head(s)
            assert head.startswith(b"HTTP/1.1 101"), head
            assert b"Upgrade: websocket" in head
            assert rest == b""
            for size in (5, 70_000):
                payload = os.urandom(size)
                assert echo_round_trip(s, payload) == payload
        _, requests = None, up.requests
        headers = {k.lower(): v for k, v in requests[-1][2].items()}
        assert headers["upgrade"] == "websocket" and headers["connection"] == "Upgrade"
        assert headers["sec-websocket-key"] == "dGhlIHNhbXBsZSBub25jZQ=="
    finally:
        mesh.stop()
        up.stop()


if __name__ == "__main__":
    run([test_connect_tunnels_raw_bytes_to_any_host,
         test_websocket_upgrade_switches_to_a_tunnel])
