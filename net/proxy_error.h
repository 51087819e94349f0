// The errors the proxy itself answers, each with its own value so that callers, metrics and
// logs can tell them apart (STYLE.md §4). The name travels in the `x-actormesh-error` response
// header and starts the one-line body.
#pragma once

namespace am::net {

enum class proxy_error {
  bad_request,              // 400: malformed request line or headers
  bad_framing,              // 400: ambiguous framing (request smuggling guard)
  header_too_large,         // 431
  header_timeout,           // 408: the client was too slow to send its request head
  unknown_service,          // 502: no mesh service by that name and unknown hosts are rejected
  resolve_failed,           // 502: the host name of a pass-through request did not resolve
  no_endpoint,              // 503: the service has no endpoints
  upstream_connect_failed,  // 503: the upstream refused or was unreachable
  upstream_timeout,         // 504: no response head within the service's timeout
  upstream_reset,           // 502: the upstream closed before a complete response head
  upstream_bad_response,    // 502: the upstream's response could not be parsed or is ambiguous
  access_denied,            // 403: the calling service may not call this one
  fault_injected,           // the status a route's fault injection chose
  breaker_open,             // 503: the service's circuit breaker is open (or its probes taken)
  overloaded,               // 503: a concurrency limit of the service is reached
  loop_detected,            // 508: the request would come back to a sidecar it passed
};

inline int status_of(proxy_error e) {
  switch (e) {
    case proxy_error::bad_request:
    case proxy_error::bad_framing:
      return 400;
    case proxy_error::header_too_large:
      return 431;
    case proxy_error::access_denied:
      return 403;
    case proxy_error::fault_injected:
    case proxy_error::breaker_open:
    case proxy_error::overloaded:
      return 503;
    case proxy_error::header_timeout:
      return 408;
    case proxy_error::no_endpoint:
    case proxy_error::upstream_connect_failed:
      return 503;
    case proxy_error::upstream_timeout:
      return 504;
    case proxy_error::loop_detected:
      return 508;
    case proxy_error::unknown_service:
    case proxy_error::resolve_failed:
    case proxy_error::upstream_reset:
    case proxy_error::upstream_bad_response:
      return 502;
  }
  return 500;
}

inline const char* name_of(proxy_error e) {
  switch (e) {
    case proxy_error::bad_request:
      return "bad_request";
    case proxy_error::bad_framing:
      return "bad_framing";
    case proxy_error::header_too_large:
      return "header_too_large";
    case proxy_error::header_timeout:
      return "header_timeout";
    case proxy_error::unknown_service:
      return "unknown_service";
    case proxy_error::resolve_failed:
      return "resolve_failed";
    case proxy_error::no_endpoint:
      return "no_endpoint";
    case proxy_error::upstream_connect_failed:
      return "upstream_connect_failed";
    case proxy_error::upstream_timeout:
      return "upstream_timeout";
    case proxy_error::upstream_reset:
      return "upstream_reset";
    case proxy_error::upstream_bad_response:
      return "upstream_bad_response";
    case proxy_error::access_denied:
      return "access_denied";
    case proxy_error::fault_injected:
      return "fault_injected";
    case proxy_error::breaker_open:
      return "breaker_open";
    case proxy_error::overloaded:
      return "overloaded";
    case proxy_error::loop_detected:
      return "loop_detected";
  }
  return "internal";
}

inline const char* reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 408:
      return "Request Timeout";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 431:
      return "Request Header Fields Too Large";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    case 508:
      return "Loop Detected";
    default:
      return "Unknown";
  }
}

}  // namespace am::net
