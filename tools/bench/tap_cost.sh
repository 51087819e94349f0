#!/usr/bin/env bash
# What `meshctl tap` costs a sidecar per request, in instructions (callgrind: repeatable on a
# noisy machine): N requests (h2load, HTTP/1.1 and h2c, 8 connections) through the outbound
# listener to a local nginx, with no tap, with a tap on another service, and with a tap on
# this one (every request matches; at most 100 events a second, the rest counted); each
# minus a run of 8 requests, over N - 8.
# Usage: tools/bench/tap_cost.sh [BINARY] [N]     (the full actormesh: the tap needs the API)
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:-$root/build/tools/actormesh}
meshctl=$root/build/tools/meshctl/meshctl
n=${2:-20000}
command -v valgrind >/dev/null && command -v nginx >/dev/null && command -v h2load >/dev/null || {
  echo "tap_cost.sh: needs valgrind, nginx and h2load (nghttp2-client)" >&2; exit 2; }
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
backend=18890 outbound=18891 admin=18892 api=18893
source "$root/tools/bench/nginx_backend.sh"
start_nginx_backend "$tmp" "$backend"
cat > "$tmp/node.yaml" <<YAML
name: tapcost
roles: [sidecar, discovery, commander]
sidecar:
  service_name: client
  workers: 1
  outbound: {address: 127.0.0.1, port: $outbound}
  admin: {address: 127.0.0.1, port: $admin}
  access_log: {enabled: false}
  generate_request_id: false
control:
  api: {address: 127.0.0.1, port: $api}
commander: {audit_log: "off"}
services:
  backend:
    endpoints: [{address: 127.0.0.1, port: $backend}]
  other:
    endpoints: [{address: 127.0.0.1, port: $backend}]
YAML

# total_ir PROTO REQUESTS TAP: callgrind's instruction count of one whole run; TAP is "none"
# or the service a tap is on while the requests run.
total_ir() {
  local out=$tmp/cg.out tap_pid=
  valgrind --tool=callgrind --callgrind-out-file="$out" "$binary" --config "$tmp/node.yaml" \
    >/dev/null 2>"$tmp/vg.log" & local p=$!; pids+=($p)
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$admin/ready" >/dev/null && break; sleep 0.2; done
  if [[ $3 != none ]]; then
    "$meshctl" --server 127.0.0.1:$api tap "$3" > "$tmp/tap.out" 2>&1 & tap_pid=$!; pids+=($tap_pid)
    for _ in $(seq 300); do grep -q "^# tapping" "$tmp/tap.out" && break; sleep 0.2; done
    grep -q "^# tapping" "$tmp/tap.out" || { echo "tap_cost.sh: the tap did not start" >&2; exit 1; }
  fi
  local c=$(( $2 < 8 ? $2 : 8 )) flags
  flags="-c $c -m 10"; [[ $1 == h1 ]] && flags="--h1 -c $c"
  # The outbound listener routes by authority: the service's name.
  h2load -n "$2" $flags -H ":authority: backend" "http://127.0.0.1:$outbound/" |
    grep -q "succeeded, 0 failed" || { echo "tap_cost.sh: requests failed" >&2; exit 1; }
  [[ -n $tap_pid ]] && { kill "$tap_pid"; wait "$tap_pid" 2>/dev/null || true; }
  kill -TERM $p; wait $p 2>/dev/null || true
  awk '/^summary:/ {print $2}' "$out"
}

printf '%-5s %12s %14s %8s %14s %8s\n' proto "no tap" "tap elsewhere" change "tap on it" change
for proto in h1 h2; do
  per=()
  for tap in none other backend; do
    big=$(total_ir "$proto" "$n" "$tap")
    small=$(total_ir "$proto" 8 "$tap")
    per+=("$(awk -v b="$big" -v s="$small" -v n="$n" 'BEGIN {printf "%.0f", (b - s) / (n - 8)}')")
  done
  awk -v p="$proto" -v a="${per[0]}" -v b="${per[1]}" -v c="${per[2]}" \
    'BEGIN {printf "%-5s %12s %14s %+7.1f%% %14s %+7.1f%%\n", p, a, b, (b / a - 1) * 100, c, (c / a - 1) * 100}'
done
