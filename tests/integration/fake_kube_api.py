"""A stand-in for the Kubernetes API server (none runs on these machines): it serves recorded
objects (tests/integration/k8s/*.json) in the API server's wire format. Lists are JSON
`...List` objects with a resourceVersion; a watch (`?watch=1`) is a chunked stream of one JSON
event per line, fed by the test through `push()`; `expire()` makes the next watch answer the
410 Gone ERROR event that asks for a new list. Every request is recorded."""

import copy
import http.server
import json
import os
import queue
import socketserver
import threading
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


class Collection:
    """The objects of one resource path, their resourceVersions and the open watches."""

    def __init__(self, list_kind):
        self.list_kind = list_kind
        self.objects = {}
        self.version = 100
        self.events = queue.Queue()
        self.expired = False

    def bump(self, obj):
        self.version += 1
        obj = copy.deepcopy(obj)
        obj["metadata"]["resourceVersion"] = str(self.version)
        return obj

    def put(self, obj):
        obj = self.bump(obj)
        self.objects[obj["metadata"]["name"]] = obj
        return obj

    def list_body(self):
        return {"kind": self.list_kind, "apiVersion": "v1",
                "metadata": {"resourceVersion": str(self.version)},
                "items": list(self.objects.values())}


class FakeKubeApi(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

    def __init__(self):
        self.collections = {
            "/apis/discovery.k8s.io/v1/endpointslices": Collection("EndpointSliceList"),
            "/apis/actormesh.io/v1alpha1/meshconfigs": Collection("MeshConfigList"),
        }
        self.requests = []
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def slices(self):
        return self.collections["/apis/discovery.k8s.io/v1/endpointslices"]

    def configs(self):
        return self.collections["/apis/actormesh.io/v1alpha1/meshconfigs"]

    def push(self, collection, kind, obj):
        """Changes the collection and sends the event to the open watch."""
        if kind == "DELETED":
            collection.objects.pop(obj["metadata"]["name"], None)
            obj = collection.bump(obj)
        elif kind == "BOOKMARK":
            collection.version += 1
            obj = {"kind": obj["kind"], "apiVersion": obj["apiVersion"],
                   "metadata": {"resourceVersion": str(collection.version)}}
        else:
            obj = collection.put(obj)
        collection.events.put({"type": kind, "object": obj})

    def expire(self, collection):
        """The open watch breaks and the next one is told its resourceVersion is too old."""
        collection.expired = True
        collection.events.put(None)

    def stop(self):
        for c in self.collections.values():
            c.events.put(None)
        self.shutdown()
        self.server_close()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        self.server.requests.append({"path": url.path, "query": query,
                                     "authorization": self.headers.get("Authorization")})
        c = self.server.collections.get(url.path)
        if c is None:
            return self.reply(404, {"kind": "Status", "code": 404, "reason": "NotFound"})
        if query.get("watch") != "1":
            return self.reply(200, c.list_body())
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if c.expired:
            c.expired = False
            self.chunk({"type": "ERROR", "object": {
                "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "too old resource version: %s (%d)" % (query.get("resourceVersion"),
                                                                   c.version),
                "reason": "Expired", "code": 410}})
        else:
            while True:
                event = c.events.get()
                if event is None:
                    break
                self.chunk(event)
        self.wfile.write(b"0\r\n\r\n")
        self.close_connection = True

    def chunk(self, event):
        data = (json.dumps(event) + "\n").encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
