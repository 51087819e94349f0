"""Large bodies stream through with bounded memory; slow readers slow the writer."""

import os
import subprocess
import sys
import threading
import time

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
        code, out, err = curl("-o", "/dev/null", "-w", "%{size_download} %{http_code}",
                              "http://api/download/%d" % GIB, proxy=mesh.proxy, timeout=120)
        assert code == 0, err
        assert out == b"%d 200" % GIB, out
        peak = mesh.status("VmHWM")
        assert peak < RSS_LIMIT_KIB or not harness.check_memory(), "peak RSS %d KiB" % peak
    finally:
        mesh.stop()
        up.stop()


def test_one_gib_upload_streams_with_bounded_memory():
    up = Upstream()
    mesh = Mesh(node(up.port))
    try:
        # curl streams the body (chunked) from a pipe fed by head -c: none of it is on disk.
        feeder = subprocess.Popen(["head", "-c", str(GIB), "/dev/zero"], stdout=subprocess.PIPE)
        r = subprocess.run(["curl", "-sS", "--max-time", "120", "-x", mesh.proxy, "-T", "-",
                            "-X", "POST", "http://api/upload"], stdin=feeder.stdout,
                           capture_output=True, timeout=150)
        feeder.wait()
        assert r.returncode == 0, r.stderr
        assert b'"body_bytes": %d' % GIB in r.stdout, r.stdout[:300]
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
            result["r"] = curl("-o", "/dev/null", "--limit-rate", "2M", "--max-time", "3",
                               "http://api/download/%d" % (64 << 20), proxy=mesh.proxy, timeout=3)

        t = threading.Thread(target=fetch)
        t.start()
        time.sleep(2)
        during = mesh.status("VmRSS")
        t.join()
        if harness.check_memory():
            assert during < RSS_LIMIT_KIB, "RSS %d KiB while a slow client reads" % during
    finally:
        mesh.stop()
        up.stop()


if __name__ == "__main__":
    run([test_one_gib_download_streams_with_bounded_memory,
         test_one_gib_upload_streams_with_bounded_memory,
         test_a_slow_reader_pauses_the_upstream_instead_of_filling_memory])
