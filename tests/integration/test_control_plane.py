"""Sidecars in other processes attached to a control-plane node over CAF remoting: they get
endpoints and policies live, keep serving when the control plane dies, and converge after it
restarts."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from harness import (Mesh, Upstream, eventually, remote_sidecar, reserve_port, run,  # noqa: E402
                     served_names, status_code, write_atomically as write)

CONTROL_PLANE = """
name: cp
roles: [discovery, commander]
sidecar:
  admin: {{address: 127.0.0.1, port: {admin}}}
control: {{listen: {{address: 127.0.0.1, port: %(control)d}}}}
discovery: {{endpoints_file: %(endpoints)s}}
services:
  api:
    timeout: 2s
%(policy)s
"""

ENDPOINTS = "services:\n  api:\n    endpoints:\n      - {address: 127.0.0.1, port: %d}\n"


def start_control_plane(control, endpoints, policy=""):
    cp = Mesh(CONTROL_PLANE % {"control": control, "endpoints": endpoints, "policy": policy},
              expect_ready=False)
    deadline = time.time() + 10
    while "control: sidecars attach at" not in cp.log() and time.time() < deadline:
        assert cp.proc.poll() is None, cp.log()
        time.sleep(0.05)
    return cp


def test_sidecars_follow_a_remote_control_plane_and_survive_its_restart():
    a, b, c = Upstream("a"), Upstream("b"), Upstream("c")
    reservation, control = reserve_port()
    endpoints = os.path.join(Mesh.scratch_dir(), "endpoints.yaml")
    write(endpoints, ENDPOINTS % a.port)
    cp = start_control_plane(control, endpoints)
    sidecars = [remote_sidecar(control) for _ in range(2)]
    try:
        assert all(served_names(s, 1) == {"a"} for s in sidecars)
        assert all(s.metric("actormesh_control_plane_connected") == 1 for s in sidecars)

        # An endpoint edit on the control plane reaches both sidecars.
        write(endpoints, ENDPOINTS % b.port)
        assert all(eventually(lambda s=s: served_names(s, 1) == {"b"}) for s in sidecars)

        # A policy applied on the control plane is enforced by both.
        cp.rewrite_config(CONTROL_PLANE % {
            "control": control, "endpoints": endpoints,
            "policy": "    routes:\n      - name: maintenance\n"
                      "        fault: {{abort: {{percent: 100, status: 418}}}}"})
        assert all(eventually(lambda s=s: status_code(s) == "418")
                   for s in sidecars)
        cp.rewrite_config(CONTROL_PLANE % {"control": control, "endpoints": endpoints,
                                           "policy": ""})
        assert all(eventually(lambda s=s: served_names(s, 1) == {"b"}) for s in sidecars)

        # The control plane dies: the sidecars keep serving what they know, and say so.
        cp.stop(sig=signal.SIGKILL)
        time.sleep(0.5)
        for s in sidecars:
            assert served_names(s, 1) == {"b"}
            status, body = s.admin_get("/ready")
            assert status == 200 and "control plane disconnected" in body, body
            assert s.metric("actormesh_control_plane_connected") == 0

        # It comes back with other endpoints: the sidecars reconnect and converge.
        write(endpoints, ENDPOINTS % c.port)
        cp = start_control_plane(control, endpoints)
        assert all(eventually(lambda s=s: served_names(s, 1) == {"c"}) for s in sidecars)
        assert all(eventually(lambda s=s: s.metric("actormesh_control_plane_connected") == 1)
                   for s in sidecars)
    finally:
        for s in sidecars:
            s.stop()
        cp.stop()
        for u in (a, b, c):
            u.stop()
        reservation.close()


def test_a_sidecar_without_a_reachable_control_plane_is_not_ready_but_retries():
    reservation, control = reserve_port()
    sidecar = remote_sidecar(control, expect_ready=False)
    endpoints = os.path.join(Mesh.scratch_dir(), "endpoints.yaml")
    up = Upstream("late")
    write(endpoints, ENDPOINTS % up.port)
    cp = None
    try:
        time.sleep(0.5)
        status, body = sidecar.admin_get("/ready")
        assert status == 503, body
        cp = start_control_plane(control, endpoints)
        sidecar.wait_ready(timeout=10)
        assert served_names(sidecar, 1) == {"late"}
    finally:
        sidecar.stop()
        if cp:
            cp.stop()
        up.stop()
        reservation.close()


if __name__ == "__main__":
    run([test_sidecars_follow_a_remote_control_plane_and_survive_its_restart,
         test_a_sidecar_without_a_reachable_control_plane_is_not_ready_but_retries])
