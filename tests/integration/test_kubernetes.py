"""The Kubernetes sources against recorded API responses (fake_kube_api.py): EndpointSlices
listed and watched (ADDED, MODIFIED, DELETED, bookmarks, 410 Gone → list again) reach a
sidecar in another process; MeshConfig resources become config versions; a bad one is
rejected whole and the last good config keeps serving."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from fake_kube_api import FakeKubeApi, endpoint_slice, mesh_config  # noqa: E402
from harness import (Mesh, Upstream, control_plane_node, eventually, free_port,  # noqa: E402
                     meshctl, remote_sidecar,
                     run, served_names as served, status_code)

CONTROL_PLANE_BODY = """
discovery:
  kubernetes: {{api: "%(url)s", token_file: "%(token)s"}}
commander:
  audit_log: {dir}/audit.log
  kubernetes: {{api: "%(url)s", token_file: "%(token)s"}}
services:
  api: {{timeout: 2s}}
"""


class Cluster:
    def __init__(self):
        self.kube = FakeKubeApi()
        self.dir = Mesh.scratch_dir()
        self.token = os.path.join(self.dir, "token")
        with open(self.token, "w") as f:
            f.write("recorded-token\n")
        self.control, self.api = free_port(), free_port()
        self.ups = {}
        self.cp = self.sidecar = None

    def upstream(self, name):
        self.ups[name] = Upstream(name)
        return self.ups[name].port

    def start(self):
        self.cp = Mesh(control_plane_node(self.control, self.api, CONTROL_PLANE_BODY % {
            "url": self.kube.url, "token": self.token}), expect_ready=False)
        self.sidecar = remote_sidecar(self.control)

    def meshctl(self, *args):
        return meshctl(self.api, *args)

    def stop(self):
        for m in (self.sidecar, self.cp):
            if m:
                m.stop()
        self.kube.stop()
        for u in self.ups.values():
            u.stop()


def test_endpoint_slices_are_listed_watched_and_relisted_after_410_gone():
    k = Cluster()
    slices = k.kube.slices()
    try:
        slices.put(endpoint_slice("api-a", "api", k.upstream("a")))
        k.start()
        assert served(k.sidecar) == {"a"}

        # ADDED: a second slice of the same service.
        b = endpoint_slice("api-b", "api", k.upstream("b"), zone="zone-2")
        k.kube.push(slices, "ADDED", b)
        assert eventually(lambda: served(k.sidecar) == {"a", "b"})
        zones = {e["labels"].get("zone") for e in
                 json.loads(k.sidecar.admin_get("/config")[1])["endpoints"]["api"]}
        assert zones == {"zone-1", "zone-2"}, zones

        # A bookmark moves the resourceVersion without changing anything.
        k.kube.push(slices, "BOOKMARK", b)
        # MODIFIED: a's endpoint is no longer ready → out.
        k.kube.push(slices, "MODIFIED", endpoint_slice("api-a", "api", k.ups["a"].port,
                                                       ready=False))
        assert eventually(lambda: served(k.sidecar) == {"b"})

        # The resourceVersion expires: the source lists again (c replaced b meanwhile).
        slices.objects.clear()
        slices.put(endpoint_slice("api-c", "api", k.upstream("c")))
        k.kube.expire(slices)
        assert eventually(lambda: served(k.sidecar) == {"c"}), k.cp.log()
        assert "expired (410 Gone)" in k.cp.log()

        # DELETED: the service's last slice goes, the service goes empty.
        k.kube.push(slices, "DELETED", endpoint_slice("api-c", "api", k.ups["c"].port))
        assert eventually(lambda: status_code(k.sidecar) == "503"), k.cp.log()

        requests = [r for r in k.kube.requests if "endpointslices" in r["path"]]
        assert all(r["authorization"] == "Bearer recorded-token" for r in requests), requests
        lists = [r for r in requests if "watch" not in r["query"]]
        watches = [r for r in requests if r["query"].get("watch") == "1"]
        assert len(lists) == 2, requests  # the first list and the one after 410
        assert watches[0]["query"]["resourceVersion"] == "101", watches[0]
        assert watches[0]["query"]["allowWatchBookmarks"] == "true"
    finally:
        k.stop()


def test_mesh_config_resources_become_config_versions_and_a_bad_one_changes_nothing():
    k = Cluster()
    configs = k.kube.configs()
    try:
        k.kube.slices().put(endpoint_slice("api-a", "api", k.upstream("a")))
        configs.put(mesh_config("api-policy", {"api": {"timeout": "2s", "routes": [
            {"name": "maintenance", "fault": {"abort": {"percent": 100, "status": 418}}}]}}))
        k.start()
        status = lambda: status_code(k.sidecar)
        assert eventually(lambda: status() == "418"), k.cp.log()
        code, out, _ = k.meshctl("get")
        assert "k8s:default/api-policy" in out, out

        # An invalid spec: rejected whole, 418 stays in force.
        k.kube.push(configs, "MODIFIED", mesh_config("api-policy", {"api": {"timeout": "soon"}}))
        assert eventually(lambda: "services.api.timeout" in k.cp.log()), k.cp.log()
        assert status() == "418"

        # A valid edit applies.
        k.kube.push(configs, "MODIFIED", mesh_config("api-policy", {"api": {"timeout": "3s"}}))
        assert eventually(lambda: status() == "200")
        code, out, _ = k.meshctl("history")
        assert out.count("k8s:default/api-policy") == 2, out

        # A second resource that names the same service: rejected whole, audited, 3s stays.
        k.kube.push(configs, "ADDED", mesh_config("api-other", {"api": {"timeout": "9s"}}))
        audit = os.path.join(k.cp.dir, "audit.log")
        assert eventually(lambda: "also defined by MeshConfig" in open(audit).read()), k.cp.log()
        last = json.loads(open(audit).read().splitlines()[-1])
        assert last["event"] == "rejected" and "k8s:default/api-other" in last["source"], last
        assert "3s" in k.meshctl("get")[1]
    finally:
        k.stop()


if __name__ == "__main__":
    run([test_endpoint_slices_are_listed_watched_and_relisted_after_410_gone,
         test_mesh_config_resources_become_config_versions_and_a_bad_one_changes_nothing])
