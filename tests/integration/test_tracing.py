"""Trace context across two sidecar hops (a caller's outbound sidecar, the callee's inbound
one, then the application): the trace a request came with goes on (W3C traceparent, and B3
headers when it came with them), a request without one gets a new trace, each hop adds a span
whose parent is the previous hop's, and both access logs carry the ids."""

import json
import os
import re
import sys

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
services:
  orders:
    endpoints:
      - {{address: 127.0.0.1, port: %(orders)d}}
"""

W3C = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
HEX16, HEX32 = re.compile("^[0-9a-f]{16}$"), re.compile("^[0-9a-f]{32}$")


class TwoHops:
    """frontend's sidecar -> orders' sidecar (inbound) -> orders' application."""

    def __init__(self):
        self.app = Upstream("orders-app")
        self.callee = Mesh(NODE % {"me": "orders", "app": self.app.port, "orders": 1})
        self.caller = Mesh(NODE % {"me": "frontend", "app": 1, "orders": self.callee.inbound})

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


if __name__ == "__main__":
    run([test_a_request_without_a_trace_starts_one_and_each_hop_adds_a_span,
         test_a_w3c_trace_goes_on_with_tracestate_untouched,
         test_b3_headers_go_on_updated_in_the_form_they_came])
