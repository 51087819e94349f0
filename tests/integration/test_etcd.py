"""The etcd v3 discovery source against a real etcd (Debian's etcd-server) on loopback:
endpoints put and deleted with etcdctl reach a sidecar in another process; a bad value is
ignored; etcd restarts without losing or repeating an update, and the sidecar keeps serving
while it is down."""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Mesh, Upstream, eventually, free_port, remote_sidecar, run,  # noqa: E402
                     served_names, status_code)

PREFIX = "/actormesh/services/"

CONTROL_PLANE = """
name: cp
roles: [discovery, commander]
sidecar:
  admin: {{address: 127.0.0.1, port: {admin}}}
control: {{listen: {{address: 127.0.0.1, port: %(control)d}}}}
discovery:
  etcd: {{endpoints: "127.0.0.1:%(etcd)d", prefix: "%(prefix)s"}}
services:
  api: {{timeout: 2s}}
"""

class Etcd:
    """A one-member etcd on loopback with a temporary data dir (kept across restarts)."""

    def __init__(self):
        self.dir = Mesh.scratch_dir()
        self.client, self.peer = free_port(), free_port()
        self.proc = None
        self.start()

    def start(self):
        client = "http://127.0.0.1:%d" % self.client
        peer = "http://127.0.0.1:%d" % self.peer
        self.log = open(os.path.join(self.dir, "etcd.log"), "a")
        self.proc = subprocess.Popen(
            ["etcd", "--name", "test", "--data-dir", os.path.join(self.dir, "data"),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
             "--initial-cluster", "test=" + peer],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while time.time() < deadline:
            if self.ctl("endpoint", "health", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("etcd did not start")

    def ctl(self, *args, check=True):
        env = dict(os.environ, ETCDCTL_API="3")
        p = subprocess.run(["etcdctl", "--endpoints", "127.0.0.1:%d" % self.client,
                            "--dial-timeout", "2s"] + list(args),
                           capture_output=True, text=True, env=env, timeout=10)
        if check:
            assert p.returncode == 0, p.stderr
        return p

    def put_endpoint(self, service, ident, port, **labels):
        value = json.dumps({"address": "127.0.0.1", "port": port, "labels": labels})
        self.ctl("put", PREFIX + service + "/" + ident, value)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=10)
        self.log.close()


def test_endpoints_in_etcd_reach_a_remote_sidecar_and_survive_an_etcd_restart():
    etcd = Etcd()
    a, b, c = Upstream("a"), Upstream("b"), Upstream("c")
    control = free_port()
    etcd.put_endpoint("api", "a", a.port, version="v1")
    cp = Mesh(CONTROL_PLANE % {"control": control, "etcd": etcd.client, "prefix": PREFIX},
              expect_ready=False)
    sidecar = None
    try:
        sidecar = remote_sidecar(control)
        assert served_names(sidecar) == {"a"}

        etcd.put_endpoint("api", "b", b.port)
        assert eventually(lambda: served_names(sidecar) == {"a", "b"})
        etcd.ctl("del", PREFIX + "api/a")
        assert eventually(lambda: served_names(sidecar) == {"b"})

        # A value that is no endpoint is ignored (and logged); the rest keeps serving.
        etcd.ctl("put", PREFIX + "api/broken", "{not json")
        assert eventually(lambda: "api/broken" in cp.log())
        assert served_names(sidecar) == {"b"}

        # etcd goes away: the sidecar keeps serving what it knew.
        etcd.stop()
        time.sleep(0.5)
        assert served_names(sidecar) == {"b"}
        assert eventually(lambda: "cannot list" in cp.log() or "ended" in cp.log())

        # It comes back (same data): the source re-lists and resumes; new changes arrive.
        etcd.start()
        etcd.put_endpoint("api", "c", c.port)
        etcd.ctl("del", PREFIX + "api/b")
        assert eventually(lambda: served_names(sidecar) == {"c"}, 10), cp.log()
        _, text = sidecar.admin_get("/config")
        endpoints = json.loads(text)["endpoints"]["api"]
        assert len(endpoints) == 1, endpoints  # nothing counted twice across the restart
    finally:
        if sidecar:
            sidecar.stop()
        cp.stop()
        etcd.stop()
        for u in (a, b, c):
            u.stop()


def test_a_service_whose_keys_are_all_deleted_goes_empty():
    etcd = Etcd()
    a = Upstream("a")
    control = free_port()
    etcd.put_endpoint("api", "a", a.port)
    cp = Mesh(CONTROL_PLANE % {"control": control, "etcd": etcd.client, "prefix": PREFIX},
              expect_ready=False)
    sidecar = None
    try:
        sidecar = remote_sidecar(control)
        assert served_names(sidecar, 1) == {"a"}
        etcd.ctl("del", "--prefix", PREFIX + "api/")
        assert eventually(lambda: status_code(sidecar) == "503")
    finally:
        if sidecar:
            sidecar.stop()
        cp.stop()
        etcd.stop()
        a.stop()


if __name__ == "__main__":
    run([test_endpoints_in_etcd_reach_a_remote_sidecar_and_survive_an_etcd_restart,
         test_a_service_whose_keys_are_all_deleted_goes_empty])
