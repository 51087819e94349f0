"""A stand-in for the Kubernetes API server (none runs on these machines), behaving like it for
everything the sources use. It serves recorded objects (tests/integration/k8s/*.json) in the
API server's wire format:

- a list is a JSON `...List` object with the collection's resourceVersion;
- a watch (`?watch=1&resourceVersion=RV`) is a chunked stream of one JSON event per line:
  every event after RV from the collection's history (each watch sees all of them: nothing
  is split between watches), then new ones as the test pushes them;
- a watch ends by itself after `timeoutSeconds` (or the server's own `max_watch_seconds`,
  as the API server ends watches at a random time), with a BOOKMARK first when
  `allowWatchBookmarks=true`, so a client resumes from where it was;
- a watch from a resourceVersion older than the history kept (`compact()`) is told `410
  Gone`: as an ERROR event (what the API server does) or, with `gone_as_status`, as the HTTP
  status (what some proxies and versions do);
- `Authorization: Bearer TOKEN` is checked (401 otherwise) when `token` is set; `fail(status,
  count, retry_after)` answers the next requests with a Status error (403, 429 with
  Retry-After, 500, 503...); `outage()` closes the port (connections refused) until
  `restore()`;
- with `tls=(cert, key)` it speaks only HTTPS.

Every request is recorded (path, query, Authorization, time, the status answered, and for a
watch the last resourceVersion it sent)."""

import copy
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

FIXTURES = os.path.join(os.path.dirname(__file__), "k8s")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return json.load(f)


def endpoint_slice(name, service, port, ready=True, zone="zone-1"):
    s = fixture("endpointslice.json")
    s["metadata"]["name"] = name
    s["metadata"]["labels"]["kubernetes.io/service-name"] = service
    s["endpoints"][0]["conditions"]["ready"] = ready
    s["endpoints"][0]["zone"] = zone
    s["ports"][0]["port"] = port
    return s


def mesh_config(name, services):
    m = fixture("meshconfig.json")
    m["metadata"]["name"] = name
    m["spec"]["services"] = services
    return m


def status(code, reason, message):
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": reason, "code": code}


class Collection:
    """The objects of one resource path, their resourceVersions and the history of events
    that watches replay."""

    def __init__(self, list_kind):
        self.list_kind = list_kind
        self.objects = {}
        self.version = 100
        self.history = []      # (resourceVersion, event), oldest first
        self.oldest = 100      # a watch from before this resourceVersion is 410 Gone
        self.generation = 0    # bumped to end every open watch
        self.changed = threading.Condition()

    def bump(self, obj):
        self.version += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.version)
        return obj

    def put(self, obj):
        """Stores an object without an event (before any watch, or behind a compaction)."""
        with self.changed:
            obj = self.bump(obj)
            self.objects[obj["metadata"]["name"]] = obj
            return obj

    def record(self, kind, obj):
        with self.changed:
            if kind == "DELETED":
                self.objects.pop(obj["metadata"]["name"], None)
                obj = self.bump(obj)
            elif kind == "BOOKMARK":  # moves the resourceVersion, changes nothing
                self.version += 1
                obj = {"kind": obj["kind"], "apiVersion": obj["apiVersion"],
                       "metadata": {"resourceVersion": str(self.version)}}
            else:
                obj = self.put(obj)
            self.history.append((self.version, {"type": kind, "object": obj}))
            self.changed.notify_all()

    def compact(self):
        """Forgets the history: watches from before now get 410 Gone."""
        with self.changed:
            self.history.clear()
            self.oldest = self.version

    def end_watches(self):
        with self.changed:
            self.generation += 1
            self.changed.notify_all()

    def list_body(self):
        with self.changed:
            return {"kind": self.list_kind, "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(self.version)},
                    "items": list(self.objects.values())}


class FakeKubeApi:
    def __init__(self, token=None, tls=None, max_watch_seconds=3600):
        self.collections = {
            "/apis/discovery.k8s.io/v1/endpointslices": Collection("EndpointSliceList"),
            "/apis/actormesh.io/v1alpha1/meshconfigs": Collection("MeshConfigList"),
        }
        self.token = token
        self.tls = tls
        self.max_watch_seconds = max_watch_seconds
        self.gone_as_status = False
        self.failures = []     # statuses (with Retry-After) for the next requests
        self.requests = []
        self.lock = threading.Lock()
        self.port = 0
        self.server = None
        self.restore()

    # -- the port --------------------------------------------------------------------------

    def restore(self):
        """Opens the port (the same one after an outage) and serves."""
        self.server = Server(("127.0.0.1", self.port), self)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def outage(self):
        """The API server goes away: its port refuses connections, open watches break."""
        self.server.shutdown()
        self.server.server_close()
        for c in self.collections.values():
            c.end_watches()

    @property
    def url(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls else "http", self.port)

    def stop(self):
        self.outage()

    # -- the test's hands --------------------------------------------------------------------

    def slices(self):
        return self.collections["/apis/discovery.k8s.io/v1/endpointslices"]

    def configs(self):
        return self.collections["/apis/actormesh.io/v1alpha1/meshconfigs"]

    def push(self, collection, kind, obj):
        """Changes the collection; open watches (and later ones from before) see the event."""
        collection.record(kind, obj)

    def expire(self, collection, as_status=False):
        """Compacts the history and ends the open watch: the next one, from the client's
        resourceVersion, is told 410 Gone (an ERROR event, or the HTTP status)."""
        self.gone_as_status = as_status
        collection.compact()
        collection.end_watches()

    def fail(self, code, count=1, retry_after=None, collection=None):
        """The next `count` requests (to `collection`, or to any) are answered `code`, and
        the open watches end so that new requests come."""
        path = next((p for p, c in self.collections.items() if c is collection), None)
        with self.lock:
            self.failures += [(code, retry_after, path)] * count
        for c in self.collections.values():
            if collection in (None, c):
                c.end_watches()

    def recorded(self, fragment):
        with self.lock:
            return [r for r in self.requests if fragment in r["path"]]


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, api):
        self.api = api
        super().__init__(address, Handler)
        if api.tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*api.tls)
            self.socket = context.wrap_socket(self.socket, server_side=True,
                                              do_handshake_on_connect=False)

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)  # a client that left is no error

    def finish_request(self, request, client_address):
        if self.api.tls:
            try:
                request.do_handshake()
            except (ssl.SSLError, OSError):
                return  # a client that does not trust us: nothing served
        super().finish_request(request, client_address)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        api = self.server.api
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        authorization = self.headers.get("Authorization")
        self.record = {"path": url.path, "query": query, "time": time.time(),
                       "authorization": authorization, "status": 200}
        with api.lock:
            api.requests.append(self.record)
            failure = next((f for f in api.failures if f[2] in (None, url.path)), None)
            if failure:
                api.failures.remove(failure)
        if api.token and authorization != "Bearer " + api.token:
            return self.reply(401, status(401, "Unauthorized", "Unauthorized"))
        if failure:
            code, retry_after, _ = failure
            headers = {"Retry-After": str(retry_after)} if retry_after else {}
            return self.reply(code, status(code, "Injected", "injected failure"), headers)
        c = api.collections.get(url.path)
        if c is None:
            return self.reply(404, status(404, "NotFound", "the server could not find it"))
        if query.get("watch") not in ("1", "true"):
            return self.reply(200, c.list_body())
        self.watch(c, query)

    def watch(self, c, query):
        api = self.server.api
        since = int(query.get("resourceVersion") or 0)
        timeout = min(int(query.get("timeoutSeconds") or 1800), api.max_watch_seconds)
        gone = since < c.oldest
        self.record["ended_at"] = since  # the last resourceVersion this watch sent
        if gone and api.gone_as_status:
            return self.reply(410, status(410, "Expired", "too old resource version"))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if gone:
            self.chunk({"type": "ERROR", "object": status(
                410, "Expired", "too old resource version: %d (%d)" % (since, c.oldest))})
        else:
            deadline = time.time() + timeout
            with c.changed:
                generation = c.generation
            sent = since
            ended_by_timeout = False
            while True:
                with c.changed:
                    events = [(rv, e) for rv, e in c.history if rv > sent]
                    if not events:
                        if c.generation != generation:
                            break
                        left = deadline - time.time()
                        if left <= 0:
                            ended_by_timeout = True
                            break
                        c.changed.wait(left)
                        continue
                    sent = events[-1][0]
                for _, event in events:
                    self.chunk(event)
                self.record["ended_at"] = sent
            if ended_by_timeout and query.get("allowWatchBookmarks") == "true":
                with c.changed:
                    rv = c.version
                kind = c.list_kind[:-len("List")]
                self.chunk({"type": "BOOKMARK", "object": {
                    "kind": kind, "apiVersion": "v1",
                    "metadata": {"resourceVersion": str(rv)}}})
                self.record["ended_at"] = rv
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def chunk(self, event):
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def reply(self, code, body, headers=None):
        self.record["status"] = code
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)
