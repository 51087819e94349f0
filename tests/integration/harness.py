"""Shared pieces of the integration tests: a scriptable upstream, the real actormesh binary
on loopback ports, curl and raw sockets. Python's standard library only.

Every server binds to 127.0.0.1; every process started here is stopped by PID."""

import argparse
import atexit
import http.server
import json
import os
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.request
import zlib

ARGS = None


def parse_args():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("-k", default="", help="run only tests whose name contains this")
    p.add_argument("--sanitized", action="store_true",
                   help="the binary is a sanitizer build: skip memory-size assertions")
    p.add_argument("--sidecar-binary", default="",
                   help="the actormesh-sidecar to run (default: the one next to --binary), "
                        "e.g. a ThreadSanitizer build's")
    ARGS = p.parse_args()
    return ARGS


def tool(name):
    """Path of another executable of the same build: actormesh-sidecar, meshctl."""
    if name == "actormesh-sidecar" and getattr(ARGS, "sidecar_binary", ""):
        return os.path.abspath(ARGS.sidecar_binary)
    build_tools = os.path.dirname(os.path.abspath(ARGS.binary))
    return os.path.join(build_tools, "meshctl", "meshctl") if name == "meshctl" \
        else os.path.join(build_tools, name)


def test_program(name):
    """Path of a test program of the same build (build/tests/NAME): echo_server, echo_client."""
    build_root = os.path.dirname(os.path.dirname(os.path.abspath(ARGS.binary)))
    return os.path.join(build_root, "tests", name)


def check_memory():
    """Whether memory-size assertions mean anything for this binary."""
    return not ARGS.sanitized


_handed_out = set()


def free_port():
    """A port free right now that this test process has not handed out before (the kernel may
    offer a just-closed port again, and two listeners of one node must not get the same)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise AssertionError("no fresh free port")


# -- the scriptable upstream ----------------------------------------------------------------------

# 1 MiB of every byte value in turn, shifted by one every 256 bytes: what Upstream sends.
PATTERN_BLOCK = bytes((i + i // 256) % 256 for i in range(1 << 20))


def pattern(n):
    """The first n bytes of the pattern, as 1 MiB blocks (the last one shorter)."""
    while n > 0:
        piece = PATTERN_BLOCK[:min(n, len(PATTERN_BLOCK))]
        yield piece
        n -= len(piece)


def pattern_crc(n):
    """The CRC-32 of the first n bytes of the pattern."""
    crc = 0
    for piece in pattern(n):
        crc = zlib.crc32(piece, crc)
    return crc


class UpstreamHandler(http.server.BaseHTTPRequestHandler):
    """Answers by path:
      /status/N            status N, empty body
      /slow/MS             waits MS milliseconds, then 200
      /slowstatus/MS/N     waits MS milliseconds, then status N
    and every request first waits the server's `delay_ms` (0 unless a test sets it).
      /download/N          N bytes of body (Content-Length), streamed in 1 MiB writes
      /chunked/N           N bytes, chunked
      /close/N             N bytes, no framing: the body ends when the connection closes
      /header/NAME/VALUE   200 with that response header
      /smuggle             a response with both Content-Length and Transfer-Encoding
      /upgrade             101 Switching Protocols, then echoes raw bytes
      /reset               resets the connection (RST) without answering
      anything else        200, JSON of method, path, headers, body length and CRC-32
    Bodies sent are PATTERN repeated (so that a byte lost, added or moved shows in a CRC).
    """
    protocol_version = "HTTP/1.1"
    server_version = "upstream"
    # The head and the body go out in two writes: with Nagle on, the body would wait for the
    # proxy's delayed ACK (40 ms), as no real server makes it wait.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def read_body(self):
        total, crc = 0, 0
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    piece = self.rfile.read(min(left, 1 << 20))
                    total += len(piece)
                    crc = zlib.crc32(piece, crc)
                    left -= len(piece)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                piece = self.rfile.read(min(left, 1 << 20))
                if not piece:
                    break
                total += len(piece)
                crc = zlib.crc32(piece, crc)
                left -= len(piece)
        return total, crc

    def send_plain(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        if status not in (204, 304) and not (100 <= status < 200):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        if self.server.delay_ms:
            time.sleep(self.server.delay_ms / 1000)
        parts = self.path.split("?")[0].strip("/").split("/")
        body_len, crc = self.read_body()
        self.server.bodies.append(body_len)
        if self.server.status_override:
            self.send_plain(self.server.status_override, self.server.name.encode())
            return
        kind = parts[0]
        if kind == "status":
            self.send_plain(int(parts[1]))
        elif kind == "slow":
            time.sleep(int(parts[1]) / 1000)
            self.send_plain(200, b"slow done\n")
        elif kind == "slowstatus":
            time.sleep(int(parts[1]) / 1000)
            self.send_plain(int(parts[2]), b"slow status\n")
        elif kind in ("download", "chunked", "close"):
            n = int(parts[1])
            block = PATTERN_BLOCK
            self.send_response(200)
            if kind == "download":
                self.send_header("Content-Length", str(n))
            elif kind == "chunked":
                self.send_header("Transfer-Encoding", "chunked")
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command == "HEAD":
                n = 0
            while n:
                piece = block[: min(n, len(block))]
                if kind == "chunked":
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
                n -= len(piece)
            if kind == "chunked":
                self.wfile.write(b"0\r\n\r\n")
        elif kind == "header":
            self.send_plain(200, b"ok\n", [(parts[1], parts[2])])
        elif kind == "reset":
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
            self.close_connection = True
        elif kind == "smuggle":
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
            self.close_connection = True
        elif kind == "upgrade":
            self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
                             b"Upgrade: " + self.headers.get("Upgrade", "x").encode() + b"\r\n\r\n")
            self.wfile.flush()
            while True:
                data = self.connection.recv(65536)
                if not data:
                    break
                self.connection.sendall(data)
            self.close_connection = True
        else:
            reply = {"method": self.command, "path": self.path, "headers": dict(self.headers),
                     "body_bytes": body_len, "crc32": crc, "name": self.server.name}
            self.send_plain(200, json.dumps(reply).encode(), [("Content-Type", "application/json")])

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = handle_any


class Upstream(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    # Python's default backlog (5) drops the SYNs of a burst of new connections (a sidecar's
    # workers reconnecting at once); a dropped SYN is resent after 1 s and a second drop
    # times the connect out, a failure no real server's backlog would cause.
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(self, name="upstream", port=None, status=0, host="127.0.0.1"):
        self.name = name
        self.requests = []
        self.status_override = status  # non-zero: every request gets this status
        self.delay_ms = 0  # every request waits this long first
        self.bodies = []  # body length of each request, in order
        super().__init__((host, port or free_port()), UpstreamHandler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def stop(self):
        self.shutdown()
        self.server_close()


# -- the real actormesh node ----------------------------------------------------------------------

class Mesh:
    """actormesh --config FILE with the given node YAML (ports filled in), or `demo`."""

    def __init__(self, yaml_text=None, demo=False, extra_files=None, expect_ready=True,
                 executable=None, max_open_files=None, env=None):
        self.outbound = free_port()
        self.admin = free_port()
        self.inbound = free_port()
        self.dir = tempfile.mkdtemp(prefix="actormesh-test-")
        atexit.register(shutil.rmtree, self.dir, True)
        self.access_log = os.path.join(self.dir, "access.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        for name, text in (extra_files or {}).items():
            with open(os.path.join(self.dir, name), "w") as f:
                f.write(text)
        if demo:
            self.upstream_base = free_port_block(3)
            cmd = [ARGS.binary, "demo", "--outbound-port", str(self.outbound), "--admin-port",
                   str(self.admin), "--upstream-port-base", str(self.upstream_base),
                   "--access-log", self.access_log]
        else:
            text = yaml_text.format(outbound=self.outbound, admin=self.admin,
                                    inbound=self.inbound, dir=self.dir,
                                    access_log=self.access_log)
            self.config_path = os.path.join(self.dir, "node.yaml")
            with open(self.config_path, "w") as f:
                f.write(text)
            cmd = [tool(executable) if executable else ARGS.binary, "--config", self.config_path]
        self.stderr = open(self.stderr_path, "w")
        limit = None
        if max_open_files:
            import resource
            limit = lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                               (max_open_files, max_open_files))
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=self.stderr,
                                     preexec_fn=limit, env={**os.environ, **(env or {})})
        # A test that fails before it stops its nodes must not leave them running.
        atexit.register(self._kill_if_running)
        if expect_ready:
            self.wait_ready()

    def _kill_if_running(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    @staticmethod
    def scratch_dir():
        """A temporary folder removed at exit, for files shared by several nodes."""
        d = tempfile.mkdtemp(prefix="actormesh-test-")
        atexit.register(shutil.rmtree, d, True)
        return d

    def rewrite_config(self, yaml_text):
        """Replaces the node file (atomically, as deploy tools do), ports filled in as at start."""
        text = yaml_text.format(outbound=self.outbound, admin=self.admin, inbound=self.inbound,
                                dir=self.dir, access_log=self.access_log)
        with open(self.config_path + ".tmp", "w") as f:
            f.write(text)
        os.rename(self.config_path + ".tmp", self.config_path)

    @property
    def proxy(self):
        return "http://127.0.0.1:%d" % self.outbound

    def admin_get(self, path):
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.admin, path), timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def wait_ready(self, timeout=15):
        deadline = time.time() + timeout
        why = "admin port not answering"
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError("actormesh exited with %s:\n%s" % (self.proc.returncode, self.log()))
            try:
                status, why = self.admin_get("/ready")
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise AssertionError("actormesh not ready after %ss (/ready: %s):\n%s"
                             % (timeout, why.strip(), self.log()))

    def log(self):
        self.stderr.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def metric(self, name, **labels):
        """Sum of the samples of `name` whose labels include `labels`."""
        _, text = self.admin_get("/metrics")
        total = 0.0
        for line in text.splitlines():
            if line.startswith("#") or not line.startswith(name):
                continue
            head, value = line.rsplit(" ", 1)
            if head.split("{")[0] != name:
                continue
            if all('%s="%s"' % (k, v) in head for k, v in labels.items()):
                total += float(value)
        return total

    def status(self, key):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        return 0

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("actormesh did not exit within %ss" % timeout)
        finally:
            self.stderr.close()
        self.check_sanitizers()
        return code

    def check_sanitizers(self):
        """In the sanitizer build, any report (a leak at exit included) fails the test, except
        CAF's own BASP broker outliving its actor system (known_caf_leak)."""
        with open(self.stderr_path, errors="replace") as f:
            text = f.read()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                       "WARNING: ThreadSanitizer"):
            if marker == "ERROR: LeakSanitizer" and known_caf_leak(text):
                continue
            if marker in text:
                raise AssertionError("sanitizer report:\n" +
                                     text[max(0, text.index(marker) - 200):][:30000])


def known_caf_leak(text):
    """CAF 0.17.6's BASP broker can outlive its actor system at exit, with its maps, proxies and
    a hidden helper actor it spawned to ask a newly connected node's SpawnServ (waiting up to 5
    minutes): a cycle of CAF's own objects, reported as indirect leaks only, the broker among
    them. Seen now and then in any test whose nodes connect over the middleman. A leak of ours
    reports a direct leak, which this never excuses."""
    report = text[text.find("ERROR: LeakSanitizer"):]
    return ("Direct leak" not in report and "Indirect leak" in report and
            "caf::io::basp_broker" in report)


def node_head(name, sidecar="  access_log: {{enabled: false}}\n"):
    """The start of node YAML (for Mesh): every role, one worker on the test's outbound and
    admin ports, then `sidecar` (lines of that section, indented; the access log off unless
    they say); `services:` follows."""
    return """
name: %s
roles: [sidecar, discovery, commander]
sidecar:
  workers: 1
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  admin: {{address: 127.0.0.1, port: {admin}}}
""" % name + sidecar


API_NODE = node_head("test") + """%(sidecar)s
services:
  api:
%(service)s
    endpoints:
      - {{address: 127.0.0.1, port: %(port)d}}
"""


def api_node(port, sidecar="", service=""):
    """Node YAML (for Mesh) with one worker and one service, `api`, on 127.0.0.1:port.
    `sidecar` and `service` are extra lines for those sections, without indentation."""
    indent = lambda text, n: "\n".join(" " * n + line for line in text.splitlines())
    return API_NODE % {"port": port, "sidecar": indent(sidecar, 2), "service": indent(service, 4)}


CONTROL_PLANE_HEAD = """
name: cp
roles: [%(roles)s]
sidecar:
  admin: {{address: 127.0.0.1, port: {admin}}}
control:
  listen: {{address: 127.0.0.1, port: %(control)d}}
  api: {{address: 127.0.0.1, port: %(api)d}}
"""


def control_plane_node(control, api, body, roles="discovery, commander"):
    """Node YAML (for Mesh) of a control plane whose sidecars attach at `control` and whose
    gRPC API listens on `api`; `body` adds its discovery, commander and services sections."""
    return CONTROL_PLANE_HEAD % {"control": control, "api": api, "roles": roles} + body


def api_and_web(api_port, web_port):
    """The services section of a control plane (for control_plane_node) whose two services,
    api and web, have one endpoint each."""
    return """
services:
  api:
    endpoints: [{{address: 127.0.0.1, port: %d}}]
  web:
    endpoints: [{{address: 127.0.0.1, port: %d}}]
""" % (api_port, web_port)


REMOTE_SIDECAR = """
name: %(name)s
roles: [sidecar]
control_plane: {{address: 127.0.0.1, port: %(control)d}}
sidecar:
  workers: %(workers)d
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  access_log: {{enabled: false}}
%(uses)s
"""


def remote_sidecar(control, name="sc", uses=(), expect_ready=True, sidecar="", workers=1,
                   node=""):
    """A lean sidecar node (actormesh-sidecar) attached to the control plane at `control`;
    `uses` names the services it subscribes to (all when empty); `sidecar` adds lines to
    that section (indented), `node` top-level lines (braces doubled)."""
    uses_line = "  uses: [%s]" % ", ".join(uses) if uses else ""
    return Mesh(REMOTE_SIDECAR % {"name": name, "control": control, "workers": workers,
                                  "uses": uses_line + "\n" + sidecar} + node,
                executable="actormesh-sidecar", expect_ready=expect_ready)


class Pki:
    """A certificate authority in a scratch folder (openssl CLI), issuing certificates for
    127.0.0.1 / localhost with a common name: pki.issue("sidecar") -> (cert, key) paths."""

    def __init__(self, name="test-ca"):
        self.dir = Mesh.scratch_dir()
        self.ca = os.path.join(self.dir, "ca.pem")
        self.ca_key = os.path.join(self.dir, "ca.key")
        self._openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                      "-nodes", "-keyout", self.ca_key, "-out", self.ca, "-days", "2",
                      "-subj", "/CN=" + name)

    def issue(self, common_name, dns=("localhost",)):
        key = os.path.join(self.dir, common_name + ".key")
        csr = os.path.join(self.dir, common_name + ".csr")
        cert = os.path.join(self.dir, common_name + ".pem")
        ext = os.path.join(self.dir, common_name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=IP:127.0.0.1,%s\n" % ",".join("DNS:" + d for d in dns) +
                    "extendedKeyUsage=serverAuth,clientAuth\n")
        self._openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                      "-keyout", key, "-out", csr, "-subj", "/CN=" + common_name)
        self._openssl("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self.ca_key,
                      "-CAcreateserial", "-out", cert, "-days", "2", "-extfile", ext)
        return cert, key

    @staticmethod
    def _openssl(*args):
        subprocess.run(["openssl"] + list(args), check=True, capture_output=True, timeout=30)


def eventually(fn, timeout=8):
    """Polls fn until it returns true (then True) or `timeout` seconds pass (then its last
    value)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if fn():
            return True
        time.sleep(0.05)
    return fn()


def write_atomically(path, text):
    """Replaces a file the way deploy tools do: write aside, rename into place."""
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.rename(path + ".tmp", path)


def served_names(sidecar, n=6, host="api"):
    """The names of the upstreams that answered n requests through the sidecar."""
    names = set()
    for _ in range(n):
        code, out, err = curl("-s", "http://%s/" % host, proxy=sidecar.proxy)
        names.add(json.loads(out)["name"] if out.startswith(b"{") else out.decode() or err)
    return names


def status_code(sidecar, host="api"):
    """The HTTP status of one request through the sidecar, as text ("200", "503")."""
    return curl("-s", "-o", "/dev/null", "-w", "%{http_code}", "http://%s/" % host,
                proxy=sidecar.proxy)[1].decode()


def meshctl(api_port, *args, timeout=20):
    """Runs meshctl against the control API at api_port: (exit code, stdout, stderr)."""
    p = subprocess.run([tool("meshctl"), "--server", "127.0.0.1:%d" % api_port] + list(args),
                       capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


class EndpointVersions:
    """`meshctl watch SERVICE` against the control API at api_port, into a scratch file: every
    endpoint version the control plane pushes, to check that none left the service empty."""

    def __init__(self, api_port, service):
        self.service = service
        self.out = tempfile.TemporaryFile("w+")
        self.proc = subprocess.Popen([tool("meshctl"), "--server", "127.0.0.1:%d" % api_port,
                                      "watch", service], stdout=self.out)
        atexit.register(self.stop)

    def stop(self):
        """Ends the watch; the versions seen, each as its text."""
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()
        if self.out.closed:
            return []
        self.out.seek(0)
        versions = self.out.read().split("# endpoints version")[1:]
        self.out.close()
        return versions

    def assert_never_empty(self):
        """Stops the watch and checks every version lists an endpoint of the service; returns
        how many versions there were."""
        versions = self.stop()
        line = "%s 127.0.0.1:" % self.service
        assert versions and all(line in v for v in versions), versions
        return len(versions)


def reserve_port():
    """A port kept bound (not listening) for the whole test, so that no other listener of the
    test run takes it while a node that listens on it is down; the node binds it too (both set
    SO_REUSEADDR). Returns (socket, port): close the socket at the end."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    return s, s.getsockname()[1]


def free_port_block(n):
    """A base port whose next n ports are free right now."""
    for _ in range(50):
        base = free_port()
        if base + n > 65535:
            continue
        socks = []
        try:
            for i in range(n):
                s = socket.socket()
                s.bind(("127.0.0.1", base + i))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


# -- clients ------------------------------------------------------------------------------------

def curl(*args, proxy=None, timeout=30, env_proxy=None):
    """Runs curl; returns (exit code, stdout bytes, stderr text). `env_proxy` sets http_proxy."""
    env = dict(os.environ)
    for k in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"):
        env.pop(k, None)
    if env_proxy:
        env["http_proxy"] = env_proxy
        env["HTTPS_PROXY"] = env_proxy
    cmd = ["curl", "-sS", "--max-time", str(timeout)]
    if proxy:
        cmd += ["-x", proxy]
    r = subprocess.run(cmd + list(args), capture_output=True, env=env, timeout=timeout + 10)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def raw_exchange(port, payload, timeout=5.0, shut=False):
    """Sends raw bytes and reads until the server closes; returns (bytes, closed_cleanly)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(payload)
        if shut:
            s.shutdown(socket.SHUT_WR)
        data = b""
        try:
            while True:
                piece = s.recv(65536)
                if not piece:
                    return data, True
                data += piece
        except ConnectionResetError:
            return data, False
        except socket.timeout:
            return data, False


def read_head(sock):
    """Reads up to the end of a message head: (head bytes, what came after it)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = sock.recv(4096)
        if not piece:
            break
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    return head, rest


def status_of(response_bytes):
    line = response_bytes.split(b"\r\n", 1)[0]
    parts = line.split(b" ")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None


# -- a tiny runner ------------------------------------------------------------------------------

def run(tests):
    """Runs the given test functions; prints one line each and 'N passed, M failed'."""
    parse_args()
    passed = failed = 0
    for t in tests:
        if ARGS.k and ARGS.k not in t.__name__:
            continue
        start = time.time()
        try:
            t()
            passed += 1
            print("ok   %-60s %.2fs" % (t.__name__, time.time() - start), flush=True)
        except Exception:
            failed += 1
            print("FAIL %s" % t.__name__, flush=True)
            traceback.print_exc()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)
