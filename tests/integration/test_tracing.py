"""Trace context across two sidecar hops (a caller's outbound sidecar, the callee's inbound
one, then the application): the trace a request came with goes on (W3C traceparent, and B3
headers when it came with them), a request without one gets a new trace, each hop adds a span
whose parent is the previous hop's, and both access logs carry the ids. With a collector,
each sidecar exports its spans (Zipkin v2 JSON) off the request path, dropping what a slow or
gone collector cannot take."""

import http.client
import http.server
import json
import os
import re
import socket
import sys
import threading

sys.path.insert(0, os.path.dirname(__file__))
from harness import Mesh, Upstream, curl, eventually, run  # noqa: E402

NODE = """
name: %(me)s
roles: [sidecar, discovery, commander]
sidecar:
  service_name: %(me)s
  workers: 1
  outbound: {{address: 127.0.0.1, port: {outbound}}}
  inbound: {{address: 127.0.0.1, port: {inbound}, app_address: 127.0.0.1, app_port: %(app)d}}
  admin: {{address: 127.0.0.1, port: {admin}}}
  access_log: {{enabled: true, path: {access_log}}}
%(tracing)s
services:
  orders:
    endpoints:
      - {{address: 127.0.0.1, port: %(orders)d}}
"""

W3C = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
HEX16, HEX32 = re.compile("^[0-9a-f]{16}$"), re.compile("^[0-9a-f]{32}$")


class TwoHops:
    """frontend's sidecar -> orders' sidecar (inbound) -> orders' application."""

    def __init__(self, collector=None, max_queue_spans=10000):
        """`collector`: the port of a Zipkin collector both sidecars export to."""
        tracing = ""
        if collector:
            tracing = ("  tracing: {{collector: {{address: 127.0.0.1, port: %d}}, "
                       "max_queue_spans: %d}}" % (collector, max_queue_spans))
        self.app = Upstream("orders-app")
        self.callee = Mesh(NODE % {"me": "orders", "app": self.app.port, "orders": 1,
                                   "tracing": tracing})
        self.caller = Mesh(NODE % {"me": "frontend", "app": 1, "orders": self.callee.inbound,
                                   "tracing": tracing})

    def call(self, *headers):
        """The headers the application saw (lower-case names), and the two access-log lines
        of the request (caller's, callee's)."""
        args = []
        for h in headers:
            args += ["-H", h]
        code, out, err = curl(*args, "http://orders/trace", proxy=self.caller.proxy)
        assert code == 0, err
        seen = {k.lower(): v for k, v in json.loads(out)["headers"].items()}
        request_id = seen["x-request-id"]
        lines = []

        def logged():
            lines[:] = [self.line(m, request_id) for m in (self.caller, self.callee)]
            return all(lines)
        assert eventually(logged), "no access-log lines for %s" % request_id
        return seen, lines[0], lines[1]

    @staticmethod
    def line(mesh, request_id):
        if not os.path.exists(mesh.access_log):
            return None
        with open(mesh.access_log) as f:
            found = [json.loads(l) for l in f if request_id in l]
        return found[-1] if found else None

    def stop(self):
        self.caller.stop()
        self.callee.stop()
        self.app.stop()


def test_a_request_without_a_trace_starts_one_and_each_hop_adds_a_span():
    hops = TwoHops()
    try:
        seen, out, into = hops.call()
        version, trace, parent, flags = seen["traceparent"].split("-")
        assert version == "00" and flags == "01" and HEX32.match(trace), seen
        assert out["trace_id"] == into["trace_id"] == trace, (out, into)
        assert HEX16.match(out["span_id"]) and HEX16.match(into["span_id"])
        assert "parent_span_id" not in out  # the caller's sidecar began the trace
        assert into["parent_span_id"] == out["span_id"]
        assert parent == into["span_id"]  # the application's parent: the last hop's span
        assert out["span_id"] != into["span_id"]
        seen2, out2, _ = hops.call()
        assert out2["trace_id"] != trace  # a new request, a new trace
        assert "b3" not in seen and "x-b3-traceid" not in seen  # none came, none made up
    finally:
        hops.stop()


def test_a_w3c_trace_goes_on_with_tracestate_untouched():
    hops = TwoHops()
    try:
        seen, out, into = hops.call("traceparent: " + W3C, "tracestate: vendor=opaque,x=1")
        version, trace, parent, flags = seen["traceparent"].split("-")
        assert trace == "4bf92f3577b34da6a3ce929d0e0e4736" and flags == "01", seen
        assert out["trace_id"] == into["trace_id"] == trace
        assert out["parent_span_id"] == "00f067aa0ba902b7"  # the client's span
        assert into["parent_span_id"] == out["span_id"] and parent == into["span_id"]
        assert seen["tracestate"] == "vendor=opaque,x=1"
        # Not sampled: the flag goes on as it came.
        seen, _, _ = hops.call("traceparent: " + W3C[:-2] + "00")
        assert seen["traceparent"].endswith("-00"), seen
        # An invalid one (upper-case hex) is replaced by a new trace.
        seen, out, _ = hops.call("traceparent: " + W3C.upper().replace("X", "x"))
        assert seen["traceparent"].split("-")[1] != "4bf92f3577b34da6a3ce929d0e0e4736"
        assert "parent_span_id" not in out
    finally:
        hops.stop()


def test_b3_headers_go_on_updated_in_the_form_they_came():
    hops = TwoHops()
    try:
        seen, out, into = hops.call("X-B3-TraceId: 463ac35c9f6413ad48485a3953bb6124",
                                    "X-B3-SpanId: a2fb4a1d1a96d312", "X-B3-Sampled: 1",
                                    "X-B3-Flags: 1")
        assert seen["x-b3-traceid"] == "463ac35c9f6413ad48485a3953bb6124", seen
        assert seen["x-b3-spanid"] == into["span_id"]
        assert seen["x-b3-parentspanid"] == out["span_id"]
        assert seen["x-b3-sampled"] == "1" and seen["x-b3-flags"] == "1"
        assert seen["traceparent"].split("-")[1] == "463ac35c9f6413ad48485a3953bb6124"
        assert out["parent_span_id"] == "a2fb4a1d1a96d312"
        seen, out, into = hops.call("b3: 463ac35c9f6413ad-a2fb4a1d1a96d312-0")
        trace = "0000000000000000463ac35c9f6413ad"
        assert seen["b3"] == "%s-%s-0-%s" % (trace, into["span_id"], out["span_id"]), seen
        assert "x-b3-traceid" not in seen and into["trace_id"] == trace
        assert seen["traceparent"].endswith("-00")  # not sampled, in both forms
    finally:
        hops.stop()


class Collector:
    """A Zipkin collector's API as far as the sidecars use it: POST /api/v2/spans, a JSON
    array of spans, answered 202."""

    def __init__(self):
        self.spans = []
        lock = threading.Lock()
        spans = self.spans

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                ok = self.path == "/api/v2/spans" and \
                    self.headers["Content-Type"] == "application/json"
                if ok:
                    with lock:
                        spans.extend(json.loads(body))
                self.send_response(202 if ok else 400)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def test_spans_reach_the_collector_linked_across_the_hops():
    collector = Collector()
    hops = TwoHops(collector.port)
    try:
        calls = [hops.call() for _ in range(5)]
        hops.call("traceparent: " + W3C[:-2] + "00")  # not sampled: no span
        assert eventually(lambda: len(collector.spans) >= 10), collector.spans
        by_id = {s["id"]: s for s in collector.spans}
        for seen, out, into in calls:
            client, server = by_id[out["span_id"]], by_id[into["span_id"]]
            assert client["traceId"] == server["traceId"] == out["trace_id"]
            assert client["kind"] == "CLIENT" and server["kind"] == "SERVER"
            assert client["localEndpoint"] == {"serviceName": "frontend"}
            assert server["localEndpoint"] == {"serviceName": "orders"}
            assert server["parentId"] == client["id"] and "parentId" not in client
            for s in (client, server):
                assert s["name"] == "get" and s["duration"] > 0, s
                assert s["tags"]["http.path"] == "/trace" and s["tags"]["http.status_code"] == "200"
        assert len(collector.spans) == 10, len(collector.spans)  # the unsampled one: none
        for m in (hops.caller, hops.callee):
            assert m.metric("actormesh_spans_total", event="exported") == 5
            assert m.metric("actormesh_spans_total", event="dropped") == 0
    finally:
        hops.stop()
        collector.stop()


def test_a_collector_that_never_answers_costs_dropped_spans_not_requests():
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(512)  # connections complete in the backlog; nothing is ever read or answered
    hops = TwoHops(hung.getsockname()[1], max_queue_spans=50)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", hops.caller.outbound, timeout=10)
        failures = 0
        for i in range(300):
            try:
                conn.request("GET", "http://orders/%d" % i)
                r = conn.getresponse()
                r.read()
                failures += r.status != 200
            except Exception:  # counted: a load test misses no client-side failure
                failures += 1
                conn = http.client.HTTPConnection("127.0.0.1", hops.caller.outbound, timeout=10)
        assert failures == 0, failures
        assert eventually(lambda: hops.caller.metric("actormesh_spans_total",
                                                     event="dropped") >= 200)
        assert hops.caller.metric("actormesh_spans_total", event="exported") == 0
    finally:
        hops.stop()
        hung.close()


if __name__ == "__main__":
    run([test_a_request_without_a_trace_starts_one_and_each_hop_adds_a_span,
         test_a_w3c_trace_goes_on_with_tracestate_untouched,
         test_b3_headers_go_on_updated_in_the_form_they_came,
         test_spans_reach_the_collector_linked_across_the_hops,
         test_a_collector_that_never_answers_costs_dropped_spans_not_requests])
