"""Network namespaces for the tests that need them (transparent mode, federation's partition):
two namespaces joined by a veth pair, with no default route; the test process enters the first
so that nothing in the root namespace ever connects to a namespace's address."""

import ctypes
import os
import subprocess

CLONE_NEWNET = 0x40000000
_root = {}


def sh(*cmd, check=True, ns=None):
    """Runs a command (inside namespace `ns` when given); raises with its output on failure."""
    prefix = ["ip", "netns", "exec", ns] if ns else []
    r = subprocess.run(prefix + list(cmd), capture_output=True, text=True, timeout=60)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                          r.stderr))
    return r


def setns(path):
    """Moves the calling thread (and the processes it starts from now on) into a namespace."""
    with open(path) as f:
        if ctypes.CDLL(None, use_errno=True).setns(f.fileno(), CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns " + path)


def make_pair(ns, peer, ns_ips, peer_ip, devices):
    """Namespaces `ns` (addresses `ns_ips`, /24, on devices[0]) and `peer` (`peer_ip` on
    devices[1]) joined by a veth pair, loopback up in both. False when the kernel refuses."""
    if sh("ip", "netns", "add", ns, check=False).returncode != 0:
        return False
    sh("ip", "netns", "add", peer)
    for n in (ns, peer):
        sh("ip", "-n", n, "link", "set", "lo", "up")
    sh("ip", "-n", ns, "link", "add", devices[0], "type", "veth", "peer", "name", devices[1])
    sh("ip", "-n", ns, "link", "set", devices[1], "netns", peer)
    for ip in ns_ips:
        sh("ip", "-n", ns, "addr", "add", ip + "/24", "dev", devices[0])
    sh("ip", "-n", peer, "addr", "add", peer_ip + "/24", "dev", devices[1])
    sh("ip", "-n", ns, "link", "set", devices[0], "up")
    sh("ip", "-n", peer, "link", "set", devices[1], "up")
    return True


def enter(ns):
    """The test process moves into `ns` (leave_and_delete brings it back)."""
    _root.setdefault("fd", os.open("/proc/self/ns/net", os.O_RDONLY))
    setns("/run/netns/" + ns)


def leave_and_delete(*names):
    if "fd" in _root:
        ctypes.CDLL(None).setns(_root["fd"], CLONE_NEWNET)
    for ns in names:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
