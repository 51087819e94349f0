"""The Kubernetes sources against a stand-in for the API server (fake_kube_api.py, recorded
objects): EndpointSlices listed and watched (ADDED, MODIFIED, DELETED, bookmarks, 410 Gone as
an event and as a status → list again) reach a sidecar in another process; a watch the server
ends is resumed from its last resourceVersion; 401, 403, 429 (Retry-After honoured), 500 and
503 keep the last known endpoints; HTTPS with a CA file (a server from another CA refused); an
API outage under load fails no request and pushes no empty endpoint set; MeshConfig resources
become config versions; a bad one is rejected whole and the last good config keeps serving."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from fake_kube_api import FakeKubeApi, endpoint_slice, mesh_config  # noqa: E402
from harness import (EndpointVersions, Mesh, Pki, Upstream, control_plane_node,  # noqa: E402
                     eventually, free_port, meshctl, remote_sidecar,
                     run, served_names as served, status_code)

CONTROL_PLANE_BODY = """
discovery:
  kubernetes: {{api: "%(url)s", token_file: "%(token)s", ca_file: "%(ca)s"}}
commander:
  audit_log: {dir}/audit.log
  kubernetes: {{api: "%(url)s", token_file: "%(token)s", ca_file: "%(ca)s"}}
services:
  api: {{timeout: 2s}}
  grpc: {{timeout: 5s}}
"""


class Cluster:
    def __init__(self, ca="", **api):
        self.kube = FakeKubeApi(token="recorded-token", **api)
        self.ca = ca
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
            "url": self.kube.url, "token": self.token, "ca": self.ca}), expect_ready=False)
        try:
            self.sidecar = remote_sidecar(self.control)
        except AssertionError as e:
            raise AssertionError("%s\ncontrol plane:\n%s" % (e, self.cp.log())) from None

    def meshctl(self, *args):
        return meshctl(self.api, *args)

    def start_serving_a(self):
        """Starts with one slice of api (upstream a) and checks the sidecar serves it."""
        self.kube.slices().put(endpoint_slice("api-a", "api", self.upstream("a")))
        self.start()
        # The sidecar is ready once it heard from the control plane, maybe before the first
        # list came back (slower over HTTPS and under the sanitizers).
        assert eventually(lambda: served(self.sidecar) == {"a"}), self.cp.log()

    def set_token(self, token):
        with open(self.token, "w") as f:
            f.write(token + "\n")

    def slice_requests(self, watch):
        return [r for r in self.kube.recorded("endpointslices")
                if (r["query"].get("watch") == "1") == watch]

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
        k.start_serving_a()

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

        # Again, told by the HTTP status this time: d replaced c meanwhile.
        slices.objects.clear()
        slices.put(endpoint_slice("api-d", "api", k.upstream("d")))
        k.kube.expire(slices, as_status=True)
        assert eventually(lambda: served(k.sidecar) == {"d"}), k.cp.log()
        assert any(r["status"] == 410 for r in k.slice_requests(watch=True))
        slices.objects.clear()
        slices.put(endpoint_slice("api-c", "api", k.ups["c"].port))
        k.kube.expire(slices)
        assert eventually(lambda: served(k.sidecar) == {"c"}), k.cp.log()

        # DELETED: the service's last slice goes, the service goes empty.
        k.kube.push(slices, "DELETED", endpoint_slice("api-c", "api", k.ups["c"].port))
        assert eventually(lambda: status_code(k.sidecar) == "503"), k.cp.log()

        requests = [r for r in k.kube.requests if "endpointslices" in r["path"]]
        assert all(r["authorization"] == "Bearer recorded-token" for r in requests), requests
        lists = [r for r in requests if "watch" not in r["query"]]
        watches = [r for r in requests if r["query"].get("watch") == "1"]
        assert len(lists) == 4, requests  # the first list and one after each 410
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


def test_a_watch_the_server_ends_is_resumed_from_its_last_resource_version():
    # The server ends every watch after a second (as the API server does at a random time):
    # each next watch starts where the last one ended (its last event or bookmark), with no
    # new list, and no event is lost or applied twice across them.
    k = Cluster(max_watch_seconds=1)
    slices = k.kube.slices()
    try:
        k.start_serving_a()
        b = k.upstream("b")
        assert eventually(lambda: len(k.slice_requests(watch=True)) >= 2, 10)
        k.kube.push(slices, "ADDED", endpoint_slice("api-b", "api", b))
        assert eventually(lambda: served(k.sidecar) == {"a", "b"})
        assert eventually(lambda: len(k.slice_requests(watch=True)) >= 4, 10)
        k.kube.push(slices, "DELETED", endpoint_slice("api-a", "api", k.ups["a"].port))
        assert eventually(lambda: served(k.sidecar) == {"b"})
        endpoints = json.loads(k.sidecar.admin_get("/config")[1])["endpoints"]["api"]
        assert len(endpoints) == 1, endpoints

        watches = k.slice_requests(watch=True)
        assert len(k.slice_requests(watch=False)) == 1  # listed once, never again
        ended = [w for w in watches[:-1] if "ended_at" in w]
        for w, following in zip(ended, watches[1:]):
            assert following["query"]["resourceVersion"] == str(w["ended_at"]), watches
            assert following["query"]["timeoutSeconds"], following
    finally:
        k.stop()


def test_api_errors_keep_the_last_known_endpoints_and_retry_after_is_honoured():
    k = Cluster()
    slices = k.kube.slices()
    try:
        k.start_serving_a()

        # A token the server does not take: 401, the reason logged, the endpoints kept.
        k.set_token("stale-token")
        k.kube.fail(500)  # ends the open watches, so that the next request shows the token
        assert eventually(lambda: "(Unauthorized: check token_file)" in k.cp.log()), k.cp.log()
        assert served(k.sidecar) == {"a"}
        k.set_token("recorded-token")  # rotated back: read again at the next request

        for code, says in ((403, "(Forbidden: check the service account's RBAC)"),
                           (500, "answered HTTP 500"), (503, "answered HTTP 503")):
            k.kube.fail(code, count=2)
            assert eventually(lambda: says in k.cp.log()), (code, k.cp.log())
            assert served(k.sidecar) == {"a"}, code

        # Everything answers again: a new slice arrives (so the slices' watch is healthy and
        # its backoff back at its first step).
        k.kube.push(slices, "ADDED", endpoint_slice("api-b", "api", k.upstream("b")))
        assert eventually(lambda: served(k.sidecar) == {"a", "b"}), k.cp.log()

        # 429 with Retry-After: 3 → the next request comes no sooner (the backoff alone would
        # retry after 0.1 s).
        k.kube.fail(429, retry_after=3, collection=slices)
        assert eventually(lambda: any(r["status"] == 429 for r in k.kube.requests))
        refused = next(r for r in k.kube.requests if r["status"] == 429)
        later = lambda: [r["time"] for r in k.slice_requests(watch=True)  # noqa: E731
                         if r["time"] > refused["time"]]
        assert eventually(lambda: later(), 10)
        assert min(later()) - refused["time"] >= 2.9, min(later()) - refused["time"]
        k.kube.push(slices, "ADDED", endpoint_slice("api-c", "api", k.upstream("c")))
        assert eventually(lambda: served(k.sidecar, 9) == {"a", "b", "c"}), k.cp.log()
        assert "reachable again" in k.cp.log()
    finally:
        k.stop()


def test_https_with_a_ca_file_and_a_server_from_another_ca_refused():
    pki, other = Pki("cluster-ca"), Pki("another-ca")
    k = Cluster(ca=pki.ca, tls=pki.issue("kube-apiserver"))
    try:
        k.kube.slices().put(endpoint_slice("api-a", "api", k.upstream("a")))
        k.start()
        assert k.kube.url.startswith("https://")
        assert eventually(lambda: served(k.sidecar) == {"a"}), k.cp.log()
        assert k.slice_requests(watch=True)  # over TLS, with the token
    finally:
        k.stop()

    k = Cluster(ca=other.ca, tls=pki.issue("kube-apiserver"))
    try:
        k.kube.slices().put(endpoint_slice("api-a", "api", k.upstream("a")))
        k.start()
        assert eventually(lambda: "SSL" in k.cp.log() or "certificate" in k.cp.log()), k.cp.log()
        assert k.kube.requests == []  # no request (and no token) went to it
        assert status_code(k.sidecar) == "503"  # nothing discovered
    finally:
        k.stop()


def test_an_api_outage_under_load_fails_no_request_and_pushes_no_empty_endpoints():
    from test_faults import TOTAL, EchoServer, MixedLoad
    k = Cluster()
    slices = k.kube.slices()
    g = EchoServer("g")
    try:
        slices.put(endpoint_slice("api-a", "api", k.upstream("a")))
        slices.put(endpoint_slice("api-b", "api", k.upstream("b")))
        slices.put(endpoint_slice("grpc-g", "grpc", g.port))
        k.start()
        assert eventually(lambda: served(k.sidecar) == {"a", "b"}), k.cp.log()
        versions = EndpointVersions(k.api, "api")
        mixed = MixedLoad(k.sidecar).start()
        assert eventually(lambda: mixed.h1.sent >= TOTAL // 4, timeout=20)
        k.kube.outage()  # connections refused, watches broken
        assert mixed.running(), "the outage came after some load ended"
        outage_began = time.time()
        assert eventually(lambda: mixed.h1.sent >= TOTAL // 2, timeout=20)
        time.sleep(max(0.0, 1.0 - (time.time() - outage_began)))  # down for a second at least
        k.kube.restore()
        mixed.join()
        assert not any(mixed.failures().values()), mixed.failures()
        assert eventually(lambda: "cannot" in k.cp.log() or "retrying" in k.cp.log())
        # Back: a change made after the outage arrives.
        k.kube.push(slices, "ADDED", endpoint_slice("api-c", "api", k.upstream("c")))
        assert eventually(lambda: served(k.sidecar, 9) == {"a", "b", "c"}), k.cp.log()
        count = versions.assert_never_empty()
        print("     %s across the outage, 0 failed; %d endpoint versions, none empty"
              % (mixed.summary(), count))
    finally:
        k.stop()
        g.stop()


if __name__ == "__main__":
    run([test_endpoint_slices_are_listed_watched_and_relisted_after_410_gone,
         test_a_watch_the_server_ends_is_resumed_from_its_last_resource_version,
         test_api_errors_keep_the_last_known_endpoints_and_retry_after_is_honoured,
         test_https_with_a_ca_file_and_a_server_from_another_ca_refused,
         test_an_api_outage_under_load_fails_no_request_and_pushes_no_empty_endpoints,
         test_mesh_config_resources_become_config_versions_and_a_bad_one_changes_nothing])
