"""HTTP/2 attacks on the sidecar, played from outside with frames built by hand (HPACK from
python3-hpack, which python3-h2 brings): rapid reset (CVE-2023-44487), CONTINUATION flood
(CVE-2024-27316 and its family), header lists over max_header_bytes (an HPACK bomb
included), SETTINGS, PING and empty DATA floods, WINDOW_UPDATE overflow and stream-id
misuse. For each: the attacker gets GOAWAY (ENHANCE_YOUR_CALM where it fits) or, for an
oversized header list, a 431 on that stream while the connection's other streams go on; the
sidecar's RSS stays under 64 MB; and a well-behaved client, measuring its own latency through
the same sidecar meanwhile, loses no request and keeps its p99 near its baseline.

The attacker runs in its own process (this file with `attack NAME PORT`), so that it never
shares an interpreter lock with the client that measures."""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))

DATA, HEADERS, RST_STREAM, SETTINGS, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = (
    0x0, 0x1, 0x3, 0x4, 0x6, 0x7, 0x8, 0x9)
END_STREAM, END_HEADERS, ACK = 0x1, 0x4, 0x1
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
NO_ERROR, PROTOCOL_ERROR, FLOW_CONTROL_ERROR, COMPRESSION_ERROR, ENHANCE_YOUR_CALM = (
    0x0, 0x1, 0x3, 0x9, 0xb)
ATTACK_SECONDS = 5.0


def frame(kind, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([kind, flags]) + \
        struct.pack(">I", stream) + payload


def hpack_int(value, prefix_bits, flags):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([flags | value])
    out = [flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def literal(name, value, indexed=False):
    """A literal field with a new name (incremental indexing or not), no Huffman coding."""
    first = b"\x40" if indexed else b"\x00"
    return first + hpack_int(len(name), 7, 0) + name + hpack_int(len(value), 7, 0) + value


def request_block(path=b"/", method=b"GET", extra=b""):
    """A request to `target`, the service the attacker calls (the measuring client calls
    `api`, another upstream: what is measured is the sidecar, not a shared upstream)."""
    return (literal(b":method", method) + literal(b":scheme", b"http") +
            literal(b":authority", b"target") + literal(b":path", path) + extra)


class Connection:
    """A raw HTTP/2 client connection: writes frames, reads and parses what comes back."""

    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.sendall(PREFACE + frame(SETTINGS, 0, 0))
        self.buffer = b""
        self.goaway = None
        self.closed = False
        self.statuses = {}  # stream -> the :status of its response
        self.resets = {}  # stream -> the RST_STREAM error code
        self.max_frame_size = 16384  # the sidecar's, once its SETTINGS came
        from hpack import Decoder  # python3-hpack, a dependency of python3-h2
        self.decoder = Decoder()

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            self.closed = True
            return False

    def pump(self, wait=0.0):
        """Reads what is there (waiting up to `wait` seconds for the first bytes)."""
        self.sock.settimeout(wait if wait > 0 else 0.0001)
        try:
            while True:
                piece = self.sock.recv(1 << 20)
                if not piece:
                    self.closed = True
                    break
                self.buffer += piece
                self.sock.settimeout(0.0001)
        except (socket.timeout, BlockingIOError):
            pass
        except ConnectionResetError:
            self.closed = True
        self._parse()

    def _parse(self):
        while len(self.buffer) >= 9:
            length = struct.unpack(">I", b"\0" + self.buffer[:3])[0]
            if len(self.buffer) < 9 + length:
                return
            kind, flags = self.buffer[3], self.buffer[4]
            stream = struct.unpack(">I", self.buffer[5:9])[0] & 0x7fffffff
            payload = self.buffer[9:9 + length]
            self.buffer = self.buffer[9 + length:]
            if kind == GOAWAY and self.goaway is None:
                self.goaway = struct.unpack(">I", payload[4:8])[0]
            elif kind == RST_STREAM:
                self.resets[stream] = struct.unpack(">I", payload)[0]
            elif kind == SETTINGS and not flags & ACK:
                for i in range(0, len(payload) - 5, 6):
                    key, value = struct.unpack(">HI", payload[i:i + 6])
                    if key == 0x5:
                        self.max_frame_size = value
                self.send(frame(SETTINGS, ACK, 0))
            elif kind == HEADERS:
                # Decoded in order with one decoder: later blocks refer to HPACK's table.
                fields = dict(self.decoder.decode(unpad(payload, flags)))
                if ":status" in fields and stream not in self.statuses:
                    self.statuses[stream] = int(fields[":status"])

    def wait_end(self, seconds=3.0):
        deadline = time.time() + seconds
        while not self.closed and time.time() < deadline:
            self.pump(0.05)


def unpad(block, flags):
    if flags & 0x8:  # PADDED
        block = block[1:len(block) - block[0]]
    if flags & 0x20:  # PRIORITY
        block = block[5:]
    return block


# -- the attacks (in the attacker's process) ---------------------------------------------------

def flood(c, make_batch, max_batches):
    """Sends batches until the sidecar closes, GOAWAY comes, the count or the time is out."""
    start = time.time()
    sent = 0
    while sent < max_batches and time.time() - start < ATTACK_SECONDS:
        if not c.send(make_batch(sent)):
            break
        sent += 1
        if sent % 16 == 0:
            c.pump()
            if c.goaway is not None or c.closed:
                break
    c.wait_end()
    return {"goaway": c.goaway, "closed": c.closed, "batches": sent}


def attack_rapid_reset(port):
    c = Connection(port)
    block = request_block()

    def batch(i):
        out = b""
        for k in range(50):
            stream = 1 + 2 * (i * 50 + k)
            out += frame(HEADERS, END_STREAM | END_HEADERS, stream, block)
            out += frame(RST_STREAM, 0, stream, struct.pack(">I", 8))  # CANCEL
        return out
    return flood(c, batch, 400)  # at most 20,000 streams


def attack_continuation_flood(port):
    c = Connection(port)
    c.send(frame(HEADERS, 0, 1, request_block()))  # no END_HEADERS: CONTINUATION follows

    def batch(i):
        return b"".join(frame(CONTINUATION, 0, 1, literal(b"x-flood-%d-%d" % (i, k), b"v" * 64))
                        for k in range(32))
    return flood(c, batch, 10000)


def attack_settings_flood(port):
    c = Connection(port)
    one = frame(SETTINGS, 0, 0, struct.pack(">HI", 0x3, 100))
    return flood(c, lambda i: one * 256, 2000)  # never reads the ACKs


def attack_ping_flood(port):
    c = Connection(port)
    one = frame(PING, 0, 0, b"12345678")
    return flood(c, lambda i: one * 256, 2000)


def attack_empty_data_flood(port):
    c = Connection(port)
    c.send(frame(HEADERS, END_HEADERS, 1, request_block(b"/", b"POST")))
    empty = frame(DATA, 0, 1)
    return flood(c, lambda i: empty * 1024, 2000)  # up to 2 million empty frames


def attack_window_update_overflow(port):
    c = Connection(port)
    c.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 0x7fffffff)) * 2)
    c.wait_end()
    return {"goaway": c.goaway, "closed": c.closed}


def attack_stream_id_misuse(port):
    results = {}
    c = Connection(port)  # an even stream id: the client may only open odd ones
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 2, request_block()))
    c.wait_end()
    results["even"] = c.goaway
    c = Connection(port)  # HEADERS on the connection's own stream
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 0, request_block()))
    c.wait_end()
    results["zero"] = c.goaway
    c = Connection(port)  # DATA on a stream never opened
    c.send(frame(DATA, 0, 9, b"x"))
    c.wait_end()
    results["idle_data"] = c.goaway
    # Ids must grow: 3 after 5 names a stream implicitly closed (RFC 9113 §5.1.1); nghttp2
    # ignores it (nothing opened, nothing sent upstream) and the connection goes on.
    c = Connection(port)
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 5, request_block()))
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 3, request_block()))
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 7, request_block()))
    deadline = time.time() + 3
    while len(c.statuses) < 2 and time.time() < deadline:
        c.pump(0.05)
    results["decreasing"] = {"goaway": c.goaway, "statuses": {str(k): v for k, v in
                                                             c.statuses.items()}}
    return results


def attack_header_list(port, bomb):
    """Stream 1 carries a header list over max_header_bytes; stream 3, sent after it on the
    same connection, is an ordinary request."""
    c = Connection(port)
    while c.max_frame_size == 16384 and not c.closed:  # a real client waits for SETTINGS too
        c.pump(0.05)
    if bomb:
        # One 4,000-byte field in HPACK's table, then 1,000 one-byte references to it:
        # 4 MB decoded from 5 KB sent.
        extra = literal(b"x-bomb", b"b" * 4000, indexed=True) + b"\xbe" * 1000  # index 62
    else:
        extra = b"".join(literal(b"x-big-%d" % i, b"a" * 4000) for i in range(75))  # 300 KB
    block = request_block(extra=extra)
    size = c.max_frame_size  # frames as large as the sidecar takes, as h2 clients send them
    first, rest = block[:size], block[size:]
    out = frame(HEADERS, END_STREAM | (0 if rest else END_HEADERS), 1, first)
    while rest:
        piece, rest = rest[:size], rest[size:]
        out += frame(CONTINUATION, 0 if rest else END_HEADERS, 1, piece)
    c.send(out)
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, 3, request_block()))
    deadline = time.time() + 5
    while len(c.statuses) < 2 and not c.closed and time.time() < deadline:
        c.pump(0.05)
    return {"goaway": c.goaway, "closed": c.closed,
            "statuses": {str(k): v for k, v in c.statuses.items()}}


ATTACKS = {  # each run as `test_h2_abuse.py attack NAME PORT` (tools/bench/h2_abuse.sh too)
    "rapid_reset": attack_rapid_reset,
    "continuation_flood": attack_continuation_flood,
    "settings_flood": attack_settings_flood,
    "ping_flood": attack_ping_flood,
    "empty_data_flood": attack_empty_data_flood,
    "window_update_overflow": attack_window_update_overflow,
    "stream_id_misuse": attack_stream_id_misuse,
    "big_header_list": lambda port: attack_header_list(port, False),
    "hpack_bomb": lambda port: attack_header_list(port, True),
}


# -- the tests (in the test's process) ---------------------------------------------------------

def measure(port, stop, latencies, failures):
    """A well-behaved HTTP/1.1 client through the sidecar: requests on one keep-alive
    connection until `stop` is set (at most 3,000), every failure counted."""
    s = None
    for _ in range(3000):
        if stop.is_set():
            break
        start = time.perf_counter()
        try:
            if s is None:
                s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET http://api/ HTTP/1.1\r\nHost: api\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                piece = s.recv(65536)
                if not piece:
                    raise ConnectionError("closed")
                data += piece
            head, _, body = data.partition(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            while len(body) < length:
                body += s.recv(65536)
            if not head.startswith(b"HTTP/1.1 200"):
                raise ConnectionError(head[:40])
            latencies.append(time.perf_counter() - start)
        except Exception as e:  # noqa: BLE001 - every failure counts, whatever it is
            failures.append(repr(e))
            if s is not None:
                s.close()
            s = None
    if s is not None:
        s.close()


def p99(values):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * 0.99))] if values else float("inf")


def baseline(port):
    latencies, failures = [], []
    stop = threading.Event()
    t = threading.Thread(target=measure, args=(port, stop, latencies, failures))
    t.start()
    time.sleep(1.0)
    stop.set()
    t.join()
    assert not failures, failures
    return p99(latencies)


def under_attack(mesh, name):
    """Plays attack `name` while the client measures; returns (attack result, p99, count)."""
    latencies, failures = [], []
    stop = threading.Event()
    t = threading.Thread(target=measure, args=(mesh.outbound, stop, latencies, failures))
    # The attacker runs at the lowest CPU priority: on this 2-core machine it would otherwise
    # take the client's core, and the test would measure Python, not the sidecar (a real
    # attacker's CPU is elsewhere).
    attacker = subprocess.Popen(["nice", "-n", "19", sys.executable, __file__, "attack", name,
                                 str(mesh.outbound)],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert attacker.stdout.readline().strip() == "ready"  # imported, not attacking yet
        t.start()
        time.sleep(0.1)
        attacker.stdin.write("go\n")
        attacker.stdin.flush()
        out, _ = attacker.communicate(timeout=60)
    finally:
        if attacker.poll() is None:
            attacker.kill()
    stop.set()
    t.join()
    assert attacker.returncode == 0, out
    assert not failures, (name, failures[:5])
    return json.loads(out), p99(latencies), len(latencies)


def port_open(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


NODE_SERVICES = """services:
  api:
    endpoints:
      - {{address: 127.0.0.1, port: %d}}
  target:
    endpoints:
      - {{address: 127.0.0.1, port: %d}}
"""


def main_tests():
    import harness
    from harness import Mesh, Upstream, check_memory, run

    state = {}

    def setup():
        if "mesh" not in state:
            # The attacked service's server runs in its own process: in this one, its threads
            # (and their tracebacks when the sidecar cuts a request) would slow the client.
            target_port = harness.free_port()
            state["target"] = subprocess.Popen(
                [sys.executable, "-m", "http.server", "--bind", "127.0.0.1", str(target_port),
                 "--directory", Mesh.scratch_dir()],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            assert harness.eventually(lambda: port_open(target_port), 10)
            state["up"] = Upstream("api")
            state["mesh"] = Mesh(harness.node_head("abuse") + NODE_SERVICES % (
                state["up"].port, target_port))
            state["baseline"] = baseline(state["mesh"].outbound)
        return state["mesh"]

    def check(name, expect):
        mesh = setup()
        result, tail, count = under_attack(mesh, name)
        rss_mb = mesh.status("VmRSS") / 1024
        print("     %-24s p99 %.2f ms (baseline %.2f ms, %d requests), RSS %.1f MB: %s" % (
            name, tail * 1e3, state["baseline"] * 1e3, count, rss_mb, json.dumps(result)))
        expect(result)
        if check_memory():
            assert rss_mb < 64, "RSS %.1f MB under %s" % (rss_mb, name)
        # Timing is for benchmarks: the figures printed above are what the README reports (a
        # serial run). Here the bound only catches a worker stalled by the attack (hundreds
        # of ms), not the noise of a 2-core machine running other tests alongside.
        bound = 2 * state["baseline"] + 0.010
        assert tail <= bound, "p99 %.2f ms under %s, baseline %.2f ms" % (
            tail * 1e3, name, state["baseline"] * 1e3)
        assert mesh.proc.poll() is None, mesh.log()

    def calm(result):
        assert result["goaway"] == ENHANCE_YOUR_CALM, result

    def goaway(code):
        return lambda result: (result["goaway"] == code) or _fail(result)

    def _fail(result):
        raise AssertionError(result)

    def test_rapid_reset_gets_enhance_your_calm():
        check("rapid_reset", calm)
        # The sidecar's own rule (most of 500 streams reset early), before nghttp2's rate limit.
        assert setup().metric("actormesh_protection_events_total",
                              event="h2_premature_resets") == 1

    def test_a_continuation_flood_ends_the_connection():
        # nghttp2 caps CONTINUATION frames per block (its CVE-2024-28182 fix): the header
        # list past max_header_bytes is dropped as it is decoded, never kept.
        check("continuation_flood",
              lambda r: r["goaway"] in (ENHANCE_YOUR_CALM, PROTOCOL_ERROR, COMPRESSION_ERROR)
              or _fail(r))

    def test_settings_and_ping_floods_get_enhance_your_calm():
        check("settings_flood", calm)
        check("ping_flood", calm)

    def test_an_empty_data_flood_gets_enhance_your_calm():
        check("empty_data_flood", calm)
        assert setup().metric("actormesh_protection_events_total", event="h2_flood") >= 1

    def test_window_update_overflow_gets_flow_control_error():
        check("window_update_overflow", goaway(FLOW_CONTROL_ERROR))

    def test_stream_id_misuse_gets_protocol_error():
        check("stream_id_misuse", lambda r: (
            r["even"] == r["zero"] == r["idle_data"] == PROTOCOL_ERROR and
            r["decreasing"] == {"goaway": None, "statuses": {"5": 200, "7": 200}}) or _fail(r))

    def header_list_answered_431(result):
        assert result["statuses"] == {"1": 431, "3": 200}, result
        assert result["goaway"] is None and not result["closed"], result

    def test_a_header_list_over_max_header_bytes_gets_431_and_the_connection_goes_on():
        check("big_header_list", header_list_answered_431)
        check("hpack_bomb", header_list_answered_431)
        assert setup().metric("actormesh_protection_events_total",
                              event="header_list_too_large") >= 2

    tests = [
        test_rapid_reset_gets_enhance_your_calm,
        test_a_continuation_flood_ends_the_connection,
        test_settings_and_ping_floods_get_enhance_your_calm,
        test_an_empty_data_flood_gets_enhance_your_calm,
        test_window_update_overflow_gets_flow_control_error,
        test_stream_id_misuse_gets_protocol_error,
        test_a_header_list_over_max_header_bytes_gets_431_and_the_connection_goes_on,
    ]
    def test_the_sidecar_stops_cleanly_after_every_attack():
        mesh = setup()
        assert mesh.stop() == 0  # and, in the sanitizer build, with no report
        state["up"].stop()
        state["target"].kill()
        state["target"].wait()

    run(tests + [test_the_sidecar_stops_cleanly_after_every_attack])


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "attack":
        import hpack  # noqa: F401  (loaded before the measuring starts)
        print("ready", flush=True)
        sys.stdin.readline()
        print(json.dumps(ATTACKS[sys.argv[2]](int(sys.argv[3]))))
    else:
        main_tests()
