"""Federation across a network cut: two clusters' gateways in two network namespaces the test
makes (a veth pair, no default route; the test process enters the first, so nothing in the
root namespace touches them), then `iptables -j DROP` on the veth in the second: sockets stay
open and silent, which only the gateway's pings reveal (no FIN, no RST). The cut peer must be
marked down within a second, its services kept as last known (stale), and linked again once
the cut heals. Skipped, saying why, where the kernel refuses namespaces."""

import contextlib
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import eventually, run  # noqa: E402
from test_federation import Cluster, endpoint_clusters, stop_all  # noqa: E402
from netns import enter, leave_and_delete, make_pair, setns, sh  # noqa: E402

NS = "amfp%d" % os.getpid()  # east: its gateway, its sidecar, the test process
PEER = NS + "b"              # west: its gateway and its endpoint
EAST_IP, WEST_IP = "10.201.0.1", "10.201.0.2"
CUT = [["INPUT", "-i", "fp1", "-j", "DROP"], ["OUTPUT", "-o", "fp1", "-j", "DROP"]]


def make_namespaces():
    if not make_pair(NS, PEER, (EAST_IP,), WEST_IP, ("fp0", "fp1")):
        return False
    enter(NS)
    return True


@contextlib.contextmanager
def in_peer_namespace():
    """Processes started inside run in the second namespace (a child inherits its parent's)."""
    setns("/run/netns/" + PEER)
    try:
        yield
    finally:
        setns("/run/netns/" + NS)


def test_a_cut_peer_is_marked_down_within_a_second_kept_stale_and_linked_again():
    east, west = Cluster("east", EAST_IP), Cluster("west", WEST_IP)
    try:
        east.upstream("payments-a")
        with in_peer_namespace():
            west.upstream("payments-a")
            west.start([east], sidecars=0)
        east.start([west], sidecars=1)
        assert eventually(lambda: east.peer("west")["up"], timeout=15), east.node.log()
        assert eventually(lambda: endpoint_clusters(east.sidecars[0]) == ["", "west"])
        for rule in CUT:
            sh("iptables", "-A", *rule, ns=PEER)
        cut = time.time()
        assert eventually(lambda: not east.peer("west")["up"], timeout=5)
        took = time.time() - cut
        print("     a cut peer marked down after %.0f ms" % (took * 1000))
        assert took < 2, took  # ~600 ms: heartbeat 100ms + peer_timeout 500ms (sanitizers: slack)
        assert east.peer("west")["stale"] and east.imported("west") == {"payments": 1, "echo": 0}
        time.sleep(3.5)  # past CAF's own connection timeout (3 s): the link is gone by now
        assert endpoint_clusters(east.sidecars[0]) == ["", "west"]  # still as last known
        assert east.peer("west")["stale"]
        for rule in CUT:
            sh("iptables", "-D", *rule, ns=PEER)
        assert eventually(lambda: east.peer("west")["up"] and not east.peer("west")["stale"],
                          timeout=15), east.node.log()
    finally:
        stop_all(east, west)


if __name__ == "__main__":
    harness.parse_args()
    if os.geteuid() != 0 or not shutil.which("iptables"):
        print("skipped: the partition test needs root and iptables (the setup installs both)")
        sys.exit(0)
    if not make_namespaces():
        print("skipped: the kernel refuses network namespaces here (ip netns add failed)")
        sys.exit(0)
    try:
        run([test_a_cut_peer_is_marked_down_within_a_second_kept_stale_and_linked_again])
    finally:
        leave_and_delete(NS, PEER)
