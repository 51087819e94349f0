"""Large bodies stream through with bounded memory; slow readers slow the writer."""

import json
import os
import subprocess
import sys
import threading
import time
import zlib

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Mesh, Upstream, curl, run  # noqa: E402

GIB = 1 << 30
RSS_LIMIT_KIB = 40 * 1024  # the proxy buffers at most a few hundred KiB per direction

def node(port):
    return harness.api_node(port, service="timeout: 30s")


def test_one_gib_download_streams_with_bounded_memory():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        # Every byte is checked (CRC-32 of what curl wrote against what Upstream sent).
        p = subprocess.Popen(["curl", "-sS", "--max-time", "120", "-x", mesh.proxy,
                              "http://api/download/%d" % GIB], stdout=subprocess.PIPE)
        size, crc = 0, 0
        for piece in iter(lambda: p.stdout.read(1 << 20), b""):
            size += len(piece)
            crc = zlib.crc32(piece, crc)
        assert p.wait(timeout=150) == 0
        assert (size, crc) == (GIB, harness.pattern_crc(GIB)), size
        peak = mesh.status("VmHWM")
        assert peak < RSS_LIMIT_KIB or not harness.check_memory(), "peak RSS %d KiB" % peak
    finally:
        mesh.stop()
        up.stop()


def test_one_gib_upload_streams_with_bounded_memory():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        # curl streams the body (chunked) from a pipe this test feeds: none of it is on disk,
        # and the upstream's CRC-32 of what it got must be the pattern's.
        p = subprocess.Popen(["curl", "-sS", "--max-time", "120", "-x", mesh.proxy, "-T", "-",
                              "-X", "POST", "http://api/upload"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE)
        for piece in harness.pattern(GIB):
            p.stdin.write(piece)
        p.stdin.close()
        out = p.stdout.read()
        assert p.wait(timeout=150) == 0
        got = json.loads(out)
        assert (got["body_bytes"], got["crc32"]) == (GIB, harness.pattern_crc(GIB)), got
        peak = mesh.status("VmHWM")
        assert peak < RSS_LIMIT_KIB or not harness.check_memory(), "peak RSS %d KiB" % peak
    finally:
        mesh.stop()
        up.stop()


def test_a_slow_reader_pauses_the_upstream_instead_of_filling_memory():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        # curl limited to 2 MB/s reading a 64 MiB body: without backpressure the proxy would
        # hold most of the body within a second.
        result = {}

        def fetch():
            result["r"] = curl("-o", "/dev/null", "-w", "%{size_download}", "--limit-rate", "2M",
                               "--max-time", "3", "http://api/download/%d" % (64 << 20),
                               proxy=mesh.proxy, timeout=3)

        t = threading.Thread(target=fetch)
        t.start()
        time.sleep(2)
        during = mesh.status("VmRSS")
        t.join()
        # curl read at its rate until its time ran out (28): the body kept flowing, slowly.
        code, out, err = result["r"]
        assert code == 28, (code, err)
        assert 2 << 20 <= int(out) <= 24 << 20, out  # curl allows bursts; 64 MiB at full speed
        if harness.check_memory():
            assert during < RSS_LIMIT_KIB, "RSS %d KiB while a slow client reads" % during
    finally:
        mesh.stop()
        up.stop()


if __name__ == "__main__":
    run([test_one_gib_download_streams_with_bounded_memory,
         test_one_gib_upload_streams_with_bounded_memory,
         test_a_slow_reader_pauses_the_upstream_instead_of_filling_memory])
