"""Transparent mode: `actormesh init` redirects a network namespace's TCP to the sidecar, whose
transparent listener sends each connection where it was going (SO_ORIGINAL_DST) and detects
its protocol. Applications run as another user than the sidecar (uid 65534 against root) and
use plain clients with no proxy settings.

Everything happens inside two network namespaces this test creates (no default route; the
test process itself enters the first, so its sockets are there too): nothing in the root
namespace connects to a namespace address. Skipped, saying why, where the kernel refuses
namespaces.
"""

import hashlib
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402
from harness import Mesh, Pki, Upstream, eventually, free_port, run, test_program  # noqa: E402
from netns import enter, leave_and_delete, make_pair, sh  # noqa: E402

NS = "amtp%d" % os.getpid()      # the client pod: the sidecar, init's rules, the applications
PEER = NS + "b"                   # another pod, for inbound interception
TRANSPARENT = 15002
APP = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
PYTHON = "/usr/bin/python3"
CLIENT_IP, LOCAL_IP, PEER_IP = "10.200.0.1", "10.200.0.2", "10.200.0.3"
LOCAL_IP6 = "fd00:200::2"

STATE = {}


def make_namespaces():
    """NS holds 10.200.0.1 and .2 (veth am0) and routes the services' virtual IPs there;
    PEER holds .3 (am0's peer). Returns False when the kernel refuses namespaces."""
    if not make_pair(NS, PEER, (CLIENT_IP, LOCAL_IP), PEER_IP, ("am0", "am1")):
        return False
    sh("ip", "-n", NS, "route", "add", "10.96.0.0/16", "dev", "am0")
    sh("ip", "-n", NS, "addr", "add", LOCAL_IP6 + "/64", "dev", "am0", "nodad")
    enter(NS)
    return True


def remove_namespaces():
    leave_and_delete(NS, PEER)


def app_env():
    env = dict(os.environ)
    for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY",
              "all_proxy", "ALL_PROXY"):
        env.pop(k, None)
    return env


def as_app(*cmd, timeout=20):
    """Runs `cmd` as the application's user (65534), without proxy settings."""
    return subprocess.run(APP + list(cmd), capture_output=True, timeout=timeout, env=app_env(),
                          cwd="/")


def app_curl(*args):
    r = as_app("curl", "-sS", "--max-time", "10", *args)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def app_python(code, *args, timeout=20):
    r = as_app(PYTHON, "-c", code, *args, timeout=timeout)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode()


def nat_rules(ns=None):
    """The nat table's rules and chains, without counters and comments."""
    out = sh("iptables-save", "-t", "nat", ns=ns).stdout
    return [l.split(" [")[0] for l in out.splitlines() if l and not l.startswith("#")]


def init(*args, ns=None, check=True):
    return sh(harness.ARGS.binary, "init", *args, ns=ns, check=check)


# -- peers ---------------------------------------------------------------------------------------

class Banner(socketserver.BaseRequestHandler):
    """A server-first protocol: greets at once, then echoes one line."""

    def handle(self):
        self.request.sendall(b"220 banner ready\r\n")
        data = self.request.recv(1024)
        if data:
            self.request.sendall(b"echo " + data)


class TlsServer(socketserver.BaseRequestHandler):
    def handle(self):
        with self.server.context.wrap_socket(self.request, server_side=True) as s:
            s.sendall(b"hello from " + self.server.name + b"\n")
            s.recv(64)


def serve(handler, host="127.0.0.1", **attrs):
    server = socketserver.ThreadingTCPServer((host, 0), handler)
    server.daemon_threads = True
    for k, v in attrs.items():
        setattr(server, k, v)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class EchoServer:
    def __init__(self):
        self.port = free_port()
        self.proc = subprocess.Popen([test_program("echo_server"), "grpc-s1", str(self.port)],
                                     stdout=subprocess.PIPE, text=True)
        assert self.proc.stdout.readline().strip() == "listening"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def app_copy(program):
    """The test program copied where the application's user can run it (a build folder may be
    private to root)."""
    d = tempfile.mkdtemp(prefix="actormesh-app-")
    os.chmod(d, 0o755)
    path = os.path.join(d, os.path.basename(program))
    shutil.copy(program, path)
    os.chmod(path, 0o755)
    return path


NODE = """
name: pod
roles: [sidecar, discovery, commander]
sidecar:
  service_name: client
  workers: 1
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  transparent: {{port: %(transparent)d, detect_timeout: 300ms%(opaque)s}}
  access_log: {{enabled: false}}
services:
  web:
    addresses: [10.96.0.10]
    ports: [80]
    routes:
      - name: canary
        match: {{headers: [{{name: x-canary, exact: "yes"}}]}}
        targets: [{{subset: {{version: v2}}}}]
      - name: default
        targets: [{{subset: {{version: v1}}}}]
    endpoints:
      - {{address: 127.0.0.1, port: %(v1)d, labels: {{version: v1}}}}
      - {{address: 127.0.0.1, port: %(v2)d, labels: {{version: v2}}}}
  flaky:
    addresses: [10.96.0.11]
    retry: {{attempts: 3, backoff: {{base: 1ms, max: 2ms}}, on: [5xx]}}
    endpoints:
      - {{address: 127.0.0.1, port: %(bad)d}}
      - {{address: 127.0.0.1, port: %(good)d}}
  echo:
    addresses: [10.96.0.20]
    ports: [50051]
    protocol: grpc
    endpoints:
      - {{address: 127.0.0.1, port: %(grpc)d}}
  smtp:
    addresses: [10.96.0.30]
    ports: [25]
    endpoints:
      - {{address: 127.0.0.1, port: %(banner)d}}
  secure:
    endpoints:
      - {{address: 127.0.0.1, port: %(tls)d}}
"""


class Pod:
    """The peers and a sidecar in NS with transparent mode on."""

    def __init__(self, opaque_ports=()):
        self.v1, self.v2 = Upstream("v1"), Upstream("v2")
        self.bad, self.good = Upstream("bad", status=503), Upstream("good")
        self.grpc = EchoServer()
        self.banner = serve(Banner)
        pki = Pki()
        cert, key = pki.issue("secure", dns=("secure",))
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        with open(cert) as f:
            self.tls_fingerprint = hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()
        self.tls = serve(TlsServer, context=context, name=b"secure")
        opaque = ", opaque_ports: [%s]" % ", ".join(map(str, opaque_ports)) if opaque_ports else ""
        self.mesh = Mesh(NODE % {
            "transparent": TRANSPARENT, "opaque": opaque, "v1": self.v1.port, "v2": self.v2.port,
            "bad": self.bad.port, "good": self.good.port, "grpc": self.grpc.port,
            "banner": self.banner.server_address[1], "tls": self.tls.server_address[1]})

    def stop(self):
        try:
            assert self.mesh.stop() == 0
        finally:
            for u in (self.v1, self.v2, self.bad, self.good):
                u.stop()
            self.grpc.stop()
            self.banner.shutdown()
            self.tls.shutdown()


def pod():
    if not any("ACTORMESH" in r for r in nat_rules()):
        init("--proxy-uid", "0")  # a test picked alone (-k) runs without the init tests
    if "pod" not in STATE:
        STATE["pod"] = Pod()
    return STATE["pod"]


# -- init ----------------------------------------------------------------------------------------

def test_init_needs_its_privilege_and_changes_nothing_without_it():
    before = nat_rules()
    r = as_app(app_copy(harness.ARGS.binary), "init", "--proxy-uid", "0")
    assert r.returncode == 1, r
    assert b"NET_ADMIN" in r.stderr and b"nothing was changed" in r.stderr, r.stderr
    assert nat_rules() == before
    bad = init("--proxy-uid", "0", "--exclude-cidrs", "10.0.0.0/33", check=False)
    assert bad.returncode == 2 and "10.0.0.0/33" in bad.stderr, bad
    assert init("--transparent-port", "15002", check=False).returncode == 2  # no owner to exempt
    assert nat_rules() == before


def test_init_dry_run_prints_and_changes_nothing_then_applies_once():
    before = nat_rules()
    dry = init("--proxy-uid", "0", "--dry-run").stdout
    assert "-A ACTORMESH_OUTPUT -m owner --uid-owner 0 -j RETURN" in dry, dry
    assert "-A ACTORMESH_REDIRECT -p tcp -j REDIRECT --to-ports %d" % TRANSPARENT in dry
    assert nat_rules() == before, "--dry-run changed the rules"
    # Rules of someone else's, which init must leave alone (and cleanup too).
    sh("iptables", "-t", "nat", "-N", "OTHER_TEAM")
    sh("iptables", "-t", "nat", "-A", "OUTPUT", "-p", "udp", "-j", "OTHER_TEAM")
    STATE["foreign"] = nat_rules()
    init("--proxy-uid", "0")
    once = nat_rules()
    assert "-A OUTPUT -p tcp -j ACTORMESH_OUTPUT" in once, once
    init("--proxy-uid", "0")
    assert nat_rules() == once, "running init twice changed the rules"
    assert all(r in once for r in STATE["foreign"])


# -- outbound interception -----------------------------------------------------------------------

def test_http1_and_h2c_to_a_service_by_its_virtual_ip():
    p = pod()
    before = {proto: p.mesh.metric("actormesh_intercepted_connections_total", protocol=proto)
              for proto in ("http1", "http2")}
    code, out, err = app_curl("http://10.96.0.10/hello")
    assert code == 0, err
    seen = json.loads(out)
    assert seen["path"] == "/hello"
    # The mesh handled it: its request id and hop marker were added on the way.
    assert "x-request-id" in {k.lower() for k in seen["headers"]}, seen
    assert "x-actormesh-hops" in {k.lower() for k in seen["headers"]}, seen
    code, out, err = app_curl("--http2-prior-knowledge", "http://10.96.0.10/h2")
    assert code == 0, err
    assert json.loads(out)["path"] == "/h2"
    assert p.mesh.metric("actormesh_intercepted_connections_total",
                         protocol="http1") == before["http1"] + 1
    assert p.mesh.metric("actormesh_intercepted_connections_total",
                         protocol="http2") == before["http2"] + 1
    assert p.mesh.metric("actormesh_requests_total", service="web", code="200") >= 2
    transparent = json.loads(p.mesh.admin_get("/config")[1])["node"]["sidecar"]["transparent"]
    assert transparent == {"port": TRANSPARENT, "inbound": False, "detect_timeout_ms": 300,
                           "opaque_ports": []}, transparent


def test_a_route_and_a_retry_policy_apply_to_intercepted_requests():
    p = pod()
    v1, v2 = len(p.v1.requests), len(p.v2.requests)
    for _ in range(5):
        code, out, err = app_curl("-H", "x-canary: yes", "http://10.96.0.10/canary")
        assert code == 0, err
    code, _, err = app_curl("http://10.96.0.10/stable")
    assert code == 0, err
    assert len(p.v2.requests) == v2 + 5, "the canary route did not apply"
    assert len(p.v1.requests) == v1 + 1
    # `flaky` has an endpoint that always answers 503: retries make every request succeed.
    failures = 0
    for _ in range(12):
        code, out, err = app_curl("-o", "/dev/null", "-w", "%{http_code}", "http://10.96.0.11/x")
        failures += code != 0 or out != b"200"
    assert failures == 0
    assert len(p.bad.requests) > 0, "the balancer never chose the bad endpoint: nothing was retried"


def test_grpc_without_proxy_settings():
    p = pod()
    client = app_copy(test_program("echo_client"))
    r = as_app(client, "10.96.0.20:50051", "sequential", "5", timeout=60)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["status"] == 0 and result["replies"] == 5 and result["failures"] == 0, result
    assert result["servers"] == ["grpc-s1"], result
    assert p.mesh.metric("actormesh_requests_total", service="echo") >= 5


BANNER_CLIENT = """
import socket, sys, time
start = time.monotonic()
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
banner = s.recv(100)
waited = time.monotonic() - start
s.sendall(b"HELO\\r\\n")
print("%f|%r|%r" % (waited, banner, s.recv(100)))
"""


def banner_exchange(address="10.96.0.30", port=25):
    waited, banner, echo = app_python(BANNER_CLIENT, address, str(port)).strip().split("|")
    return banner, float(waited), echo


def test_a_server_first_protocol_gets_its_banner_after_the_detection_time():
    p = pod()
    timeouts = p.mesh.metric("actormesh_protocol_detect_timeouts_total")
    banner, waited, echo = banner_exchange()
    assert banner == repr(b"220 banner ready\r\n") and echo == repr(b"echo HELO\r\n"), (banner, echo)
    assert p.mesh.metric("actormesh_protocol_detect_timeouts_total") == timeouts + 1
    print("     server-first banner after %.1f ms (detect_timeout 300ms)" % (waited * 1000))
    assert waited < 3.0, waited


def test_a_declared_opaque_port_skips_detection():
    p = pod()
    p.stop()
    STATE.pop("pod")
    opaque = Pod(opaque_ports=(25,))  # (init's rules are in place: pod() saw to it)
    try:
        timeouts = opaque.mesh.metric("actormesh_protocol_detect_timeouts_total")
        banner, waited, echo = banner_exchange()
        assert banner == repr(b"220 banner ready\r\n") and echo == repr(b"echo HELO\r\n")
        assert opaque.mesh.metric("actormesh_protocol_detect_timeouts_total") == timeouts
        assert opaque.mesh.metric("actormesh_intercepted_connections_total", protocol="opaque") == 1
        # The same server without the mesh (loopback is never redirected), for comparison.
        _, direct, _ = banner_exchange("127.0.0.1", opaque.banner.server_address[1])
        print("     opaque port: banner after %.1f ms (%.1f ms direct)" % (waited * 1000,
                                                                          direct * 1000))
    finally:
        opaque.stop()


TLS_CLIENT = """
import hashlib, socket, ssl, sys
context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
context.check_hostname = False
context.verify_mode = ssl.CERT_NONE
with socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5) as raw:
    with context.wrap_socket(raw, server_hostname=sys.argv[3]) as s:
        print(hashlib.sha256(s.getpeercert(binary_form=True)).hexdigest(), s.recv(100).decode())
"""


def test_tls_is_passed_through_untouched_and_routed_by_sni():
    p = pod()
    # 10.200.0.9 answers nothing: only routing by the ClientHello's name reaches a server.
    out = app_python(TLS_CLIENT, "10.200.0.9", "443", "secure")
    fingerprint, greeting = out.split(None, 1)
    assert fingerprint == p.tls_fingerprint, "the server's own certificate did not come through"
    assert greeting.strip() == "hello from secure"
    # At a mesh service's virtual IP, too: the ClientHello is told from HTTP and not parsed
    # as a request; its name, not the address, picks the service.
    fingerprint, greeting = app_python(TLS_CLIENT, "10.96.0.10", "80", "secure").split(None, 1)
    assert fingerprint == p.tls_fingerprint and greeting.strip() == "hello from secure"
    assert p.mesh.metric("actormesh_intercepted_connections_total", protocol="tls") >= 1


def test_an_unknown_destination_is_passed_through_as_tcp():
    p = pod()
    outside = Upstream("outside", host=LOCAL_IP)
    try:
        passthrough = p.mesh.metric("actormesh_requests_total", service="passthrough")
        code, out, err = app_curl("http://%s:%d/direct" % (LOCAL_IP, outside.port))
        assert code == 0, err
        seen = json.loads(out)
        # Bytes went through untouched: no header of the mesh's was added.
        assert "x-actormesh-hops" not in {k.lower() for k in seen["headers"]}, seen
        assert "x-request-id" not in {k.lower() for k in seen["headers"]}, seen
        assert p.mesh.metric("actormesh_requests_total", service="passthrough") == passthrough + 1
        # A server-first protocol at an unknown address gets its banner as well.
        banner = serve(Banner, host=LOCAL_IP)
        got, _, echo = banner_exchange(LOCAL_IP, banner.server_address[1])
        assert got == repr(b"220 banner ready\r\n") and echo == repr(b"echo HELO\r\n")
        banner.shutdown()
    finally:
        outside.stop()


V6_CLIENT = """
import socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=5)
print(s.recv(100).decode().strip())
"""


def test_ipv6_connections_are_redirected_and_passed_through():
    p = pod()
    v6_rules = sh("ip6tables-save", "-t", "nat").stdout
    if "ACTORMESH_OUTPUT" not in v6_rules:
        print("     skipped: no ip6tables nat table here")
        return
    server = socketserver.ThreadingTCPServer((LOCAL_IP6, 0), Banner, bind_and_activate=False)
    server.address_family = socket.AF_INET6
    server.socket = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    server.server_bind()
    server.server_activate()
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        opaque = p.mesh.metric("actormesh_intercepted_connections_total", protocol="opaque")
        got = app_python(V6_CLIENT, LOCAL_IP6, str(server.server_address[1])).strip()
        assert got == "220 banner ready", got
        # Counted by the sidecar: the connection went through its IPv6 listener.
        assert p.mesh.metric("actormesh_intercepted_connections_total",
                             protocol="opaque") == opaque + 1
    finally:
        server.shutdown()


OWN_PORT_CLIENT = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
try:
    print(len(s.recv(100)))
except ConnectionResetError:
    print(0)
"""


def test_a_connection_to_the_sidecars_own_port_is_refused():
    p = pod()
    loops = p.mesh.metric("actormesh_protection_events_total", event="loop_detected")
    assert app_python(OWN_PORT_CLIENT, str(TRANSPARENT)).strip() == "0"
    assert p.mesh.metric("actormesh_protection_events_total",
                         event="loop_detected") == loops + 1
    assert "reached the transparent listener" in p.mesh.log()


# -- inbound interception (in PEER) --------------------------------------------------------------

PEER_NODE = """
name: peer
roles: [sidecar, discovery, commander]
sidecar:
  service_name: peer-app
  workers: 1
  outbound: {address: 127.0.0.1, port: 15001}
  inbound: {address: 0.0.0.0, port: 15006, app_port: 8080}
  admin: {address: 127.0.0.1, port: 15000}
  transparent: {inbound: true, detect_timeout: 300ms}
  access_log: {enabled: false}
"""


def peer_metric(name, **labels):
    text = sh("curl", "-sS", "http://127.0.0.1:15000/metrics", ns=PEER).stdout
    total = 0.0
    for line in text.splitlines():
        head, _, value = line.rpartition(" ")
        if head.split("{")[0] == name and all('%s="%s"' % kv in head for kv in labels.items()):
            total += float(value)
    return total


def test_inbound_connections_to_application_ports_go_through_the_inbound_listener():
    d = Mesh.scratch_dir()
    config = os.path.join(d, "peer.yaml")
    with open(config, "w") as f:
        f.write(PEER_NODE)
    prefix = ["ip", "netns", "exec", PEER]
    app = subprocess.Popen(prefix + [PYTHON, "-c", """
import http.server, socketserver, threading, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = ("app saw %s" % self.headers.get("x-forwarded-for", "-")).encode()
        self.send_response(200); self.send_header("Content-Length", str(len(body)))
        self.end_headers(); self.wfile.write(body)
    def log_message(self, *a): pass
class B(socketserver.BaseRequestHandler):
    def handle(self): self.request.sendall(b"220 peer banner\\r\\n")
t = socketserver.ThreadingTCPServer(("0.0.0.0", 2525), B)
threading.Thread(target=t.serve_forever, daemon=True).start()
http.server.ThreadingHTTPServer(("0.0.0.0", 8080), H).serve_forever()
"""])
    sidecar = subprocess.Popen(prefix + [harness.ARGS.binary, "--config", config],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        init("--proxy-uid", "0", "--inbound-ports", "8080,2525", ns=PEER)
        assert eventually(lambda: sh("curl", "-sf", "http://127.0.0.1:15000/ready", ns=PEER,
                                     check=False).returncode == 0)
        # The application is up (loopback is never redirected: this reaches it directly).
        assert eventually(lambda: sh("curl", "-sf", "http://127.0.0.1:8080/", ns=PEER,
                                     check=False).returncode == 0)
        # From the client pod (as root, whom NS's rules exempt) to the peer's address.
        for _ in range(3):
            out = subprocess.run(["curl", "-sS", "--max-time", "10", "http://%s:8080/" % PEER_IP],
                                 capture_output=True, text=True, timeout=20, env=app_env())
            assert out.returncode == 0, out.stderr
            assert out.stdout.startswith("app saw"), out.stdout
        assert peer_metric("actormesh_requests_total", direction="inbound", code="200") == 3
        # A server-first protocol on another intercepted port: through as TCP, banner intact.
        with socket.create_connection((PEER_IP, 2525), timeout=5) as s:
            assert s.recv(100) == b"220 peer banner\r\n"
        assert peer_metric("actormesh_protocol_detect_timeouts_total") == 1
    finally:
        sidecar.terminate()
        err = sidecar.communicate(timeout=20)[1]
        app.terminate()
        app.wait()
    assert sidecar.returncode == 0, err
    assert "ERROR: AddressSanitizer" not in err and "runtime error:" not in err, err


# -- cleanup -------------------------------------------------------------------------------------

def test_cleanup_removes_exactly_what_init_added():
    if "pod" in STATE:
        STATE.pop("pod").stop()
    init("--cleanup")
    after = nat_rules()
    assert not [r for r in after if "ACTORMESH" in r], after
    assert "ACTORMESH" not in sh("ip6tables-save", "-t", "nat").stdout
    if "foreign" in STATE:
        assert after == STATE["foreign"], "cleanup touched rules that were not its own"
    assert init("--cleanup").returncode == 0  # nothing left to remove: still fine
    assert nat_rules() == after
    # Not redirected any more: the virtual IP leads nowhere.
    code, _, _ = app_curl("--connect-timeout", "1", "http://10.96.0.10/")
    assert code != 0


# -- the Kubernetes example ---------------------------------------------------------------------

def test_the_kubernetes_example_is_valid_and_its_init_matches_its_sidecar():
    import yaml
    path = os.path.join(os.path.dirname(__file__), "..", "..", "config", "k8s",
                        "transparent-pod.yaml")
    with open(path) as f:
        docs = list(yaml.safe_load_all(f))
    node_text = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["node.yaml"]
    pod = next(d for d in docs if d["kind"] == "Pod")
    node_file = os.path.join(Mesh.scratch_dir(), "node.yaml")
    with open(node_file, "w") as f:
        f.write(node_text)
    r = sh(harness.ARGS.binary, "validate", node_file, check=False)
    assert r.returncode == 0, r.stdout + r.stderr
    sidecar = yaml.safe_load(node_text)["sidecar"]
    args = pod["spec"]["initContainers"][0]["command"]
    flag = lambda name: args[args.index(name) + 1]
    assert int(flag("--transparent-port")) == sidecar["transparent"]["port"]
    assert int(flag("--inbound-port")) == sidecar["inbound"]["port"]
    assert int(flag("--inbound-ports")) == sidecar["inbound"]["app_port"]
    user = next(c for c in pod["spec"]["containers"] if c["name"] == "actormesh-sidecar")
    assert int(flag("--proxy-uid")) == user["securityContext"]["runAsUser"]
    # init accepts exactly these arguments (printed, not applied).
    assert "ACTORMESH_IN_REDIRECT" in init(*args[2:], "--dry-run").stdout


TESTS = [
    test_the_kubernetes_example_is_valid_and_its_init_matches_its_sidecar,
    test_init_needs_its_privilege_and_changes_nothing_without_it,
    test_init_dry_run_prints_and_changes_nothing_then_applies_once,
    test_http1_and_h2c_to_a_service_by_its_virtual_ip,
    test_a_route_and_a_retry_policy_apply_to_intercepted_requests,
    test_grpc_without_proxy_settings,
    test_a_server_first_protocol_gets_its_banner_after_the_detection_time,
    test_tls_is_passed_through_untouched_and_routed_by_sni,
    test_an_unknown_destination_is_passed_through_as_tcp,
    test_a_connection_to_the_sidecars_own_port_is_refused,
    test_ipv6_connections_are_redirected_and_passed_through,
    test_a_declared_opaque_port_skips_detection,
    test_inbound_connections_to_application_ports_go_through_the_inbound_listener,
    test_cleanup_removes_exactly_what_init_added,
]

if __name__ == "__main__":
    harness.parse_args()
    if os.geteuid() != 0 or not shutil.which("iptables-save"):
        print("skipped: transparent mode needs root and iptables (the setup installs both)")
        sys.exit(0)
    if not make_namespaces():
        print("skipped: the kernel refuses network namespaces here (ip netns add failed)")
        sys.exit(0)
    try:
        run(TESTS)
    finally:
        if "pod" in STATE:
            STATE.pop("pod").mesh.proc.kill()
        remove_namespaces()
