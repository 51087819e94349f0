"""The etcd v3 discovery source against a real etcd (Debian's etcd-server) on loopback:
endpoints put and deleted with etcdctl reach a sidecar in another process; a bad value is
ignored; etcd restarts without losing or repeating an update, and the sidecar keeps serving
while it is down; a restart under HTTP/1.1, h2c and gRPC load fails no request and pushes no
empty endpoint set; a watch that fell behind a compaction is cancelled by etcd and the source
lists again, missing nothing."""

import base64
import contextlib
import http.client
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (EndpointVersions, Mesh, Upstream, control_plane_node,  # noqa: E402
                     eventually, free_port, remote_sidecar, run, served_names, status_code)

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

    def gateway(self, path, **body):
        """A call to etcd's JSON gateway (keys and values base64), on a kept connection."""
        for field in ("key", "value"):
            if field in body:
                body[field] = base64.b64encode(body[field].encode()).decode()
        if getattr(self, "conn", None) is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.client, timeout=10)
        self.conn.request("POST", path, json.dumps(body))
        r = self.conn.getresponse()
        answer = json.loads(r.read())
        assert r.status == 200, answer
        return answer

    def put_endpoint(self, service, ident, port, **labels):
        value = json.dumps({"address": "127.0.0.1", "port": port, "labels": labels})
        self.ctl("put", PREFIX + service + "/" + ident, value)

    def stop(self):
        if getattr(self, "conn", None) is not None:
            self.conn.close()
            self.conn = None
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


@contextlib.contextmanager
def one_endpoint_mesh():
    """etcd holding api's one endpoint (upstream a), a control plane watching it and a remote
    sidecar serving it: (etcd, control plane, sidecar)."""
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
        yield etcd, cp, sidecar
    finally:
        if sidecar:
            sidecar.stop()
        cp.stop()
        etcd.stop()
        a.stop()


def test_a_service_whose_keys_are_all_deleted_goes_empty():
    with one_endpoint_mesh() as (etcd, _, sidecar):
        etcd.ctl("del", "--prefix", PREFIX + "api/")
        assert eventually(lambda: status_code(sidecar) == "503")


WITH_API = """
discovery:
  etcd: {{endpoints: "127.0.0.1:%(etcd)d", prefix: "%(prefix)s"}}
services:
  api: {{timeout: 2s}}
  grpc: {{timeout: 5s}}
"""


def test_an_etcd_restart_under_load_fails_no_request_and_pushes_no_empty_endpoints():
    from test_faults import TOTAL, EchoServer, MixedLoad
    etcd = Etcd()
    a, b, c, g = Upstream("a"), Upstream("b"), Upstream("c"), EchoServer("g")
    control, api = free_port(), free_port()
    etcd.put_endpoint("api", "a", a.port)
    etcd.put_endpoint("api", "b", b.port)
    etcd.put_endpoint("grpc", "g", g.port)
    cp = Mesh(control_plane_node(control, api, WITH_API % {"etcd": etcd.client,
                                                           "prefix": PREFIX},
                                 roles="discovery, commander"), expect_ready=False)
    sidecar = None
    try:
        sidecar = remote_sidecar(control)
        assert served_names(sidecar) == {"a", "b"}
        versions = EndpointVersions(api, "api")
        mixed = MixedLoad(sidecar).start()
        assert eventually(lambda: mixed.h1.sent >= TOTAL // 4, timeout=20)
        etcd.stop()  # SIGTERM: etcd goes away
        assert mixed.running(), "the restart came after some load ended"
        assert eventually(lambda: mixed.h1.sent >= TOTAL // 2, timeout=20)
        etcd.start()  # the same data
        etcd.put_endpoint("api", "c", c.port)
        mixed.join()
        assert not any(mixed.failures().values()), mixed.failures()
        assert eventually(lambda: served_names(sidecar, 9) == {"a", "b", "c"}, 10), cp.log()
        count = versions.assert_never_empty()
        print("     %s across the restart, 0 failed; %d endpoint versions, none empty" % (
            mixed.summary(), count))
    finally:
        if sidecar:
            sidecar.stop()
        cp.stop()
        etcd.stop()
        for u in (a, b, c):
            u.stop()
        g.stop()


def test_a_watch_behind_a_compaction_is_cancelled_and_the_source_lists_again():
    # The control plane is frozen (SIGSTOP) while 1,500 keys change and etcd compacts past
    # them: its watch, far behind, is cancelled by etcd (with the compact revision). Thawed,
    # the source lists again, in pages: every key is there, none twice.
    with one_endpoint_mesh() as (etcd, cp, sidecar):
        cp.proc.send_signal(signal.SIGSTOP)
        try:
            # Through etcd's JSON gateway on one connection: 1,500 puts, 1,500 revisions, of 4 KB
            # each: more than the client's buffers take (so etcd's side of the watch falls
            # behind), and a list of 6 MB, over gRPC's 4 MiB limit (so it is listed in pages).
            for i in range(1500):
                etcd.gateway("/v3/kv/put", key=PREFIX + "bulk/%04d" % i, value=json.dumps(
                    {"address": "127.0.0.1", "port": 10000 + i, "labels": {"pad": "x" * 4000}}))
            revision = int(etcd.gateway("/v3/kv/put", key=PREFIX + "bulk/last", value=json.dumps(
                {"address": "127.0.0.1", "port": 9999}))["header"]["revision"])
            etcd.gateway("/v3/kv/compaction", revision=revision)
        finally:
            cp.proc.send_signal(signal.SIGCONT)
        assert eventually(lambda: "fell behind etcd's compaction" in cp.log(), 20), cp.log()

        def bulk():
            _, text = sidecar.admin_get("/config")
            return len(json.loads(text)["endpoints"].get("bulk", []))
        assert eventually(lambda: bulk() == 1501, 20), bulk()
        assert served_names(sidecar) == {"a"}


if __name__ == "__main__":
    run([test_an_etcd_restart_under_load_fails_no_request_and_pushes_no_empty_endpoints,
         test_a_watch_behind_a_compaction_is_cancelled_and_the_source_lists_again,
test_endpoints_in_etcd_reach_a_remote_sidecar_and_survive_an_etcd_restart,
         test_a_service_whose_keys_are_all_deleted_goes_empty])
