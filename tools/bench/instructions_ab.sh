#!/usr/bin/env bash
# Instructions per request of two sidecar binaries (a change's cost without the machine's
# noise): each serves N requests (h2load, HTTP/1.1 and h2c, through the inbound listener to
# a local nginx) under callgrind, then 8 requests, and the difference divided by N - 8 is
# its instructions per request (start-up and shutdown cancel out). A BASELINE of `nghttpx`
# measures nghttpx's worker process instead (one worker, as ../shared/bench/peers.sh runs it):
# the user-space work of a peer against the same backend and load.
# Usage: tools/bench/instructions_ab.sh BASELINE_BINARY|nghttpx [THIS_BINARY] [N]
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
baseline=${1:?usage: instructions_ab.sh BASELINE_BINARY [THIS_BINARY] [N]}
this=${2:-$root/build/tools/actormesh-sidecar}
n=${3:-20000}
command -v valgrind >/dev/null && command -v nginx >/dev/null && command -v h2load >/dev/null || {
  echo "instructions_ab.sh: needs valgrind, nginx and h2load (nghttp2-client)" >&2; exit 2; }
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
backend=18790 inbound=18791 admin=18792
source "$root/tools/bench/nginx_backend.sh"
start_nginx_backend "$tmp" "$backend"
cat > "$tmp/node.yaml" <<YAML
name: ab
roles: [sidecar, discovery, commander]
sidecar:
  service_name: backend
  workers: 1
  outbound: {address: 127.0.0.1, port: 0}
  inbound: {address: 127.0.0.1, port: $inbound, app_address: 127.0.0.1, app_port: $backend}
  admin: {address: 127.0.0.1, port: $admin}
  access_log: {enabled: false}
  generate_request_id: false
YAML

# total_ir BINARY PROTO REQUESTS: callgrind's instruction count of one whole run (for nghttpx,
# of its busiest process: the worker).
total_ir() {
  rm -f "$tmp"/cg.out*
  if [ "$1" = nghttpx ]; then
    valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$tmp/cg.out.%p" nghttpx \
      --conf=/dev/null -n1 --frontend="127.0.0.1,$inbound;no-tls" \
      --backend="127.0.0.1,$backend;;proto=http/1.1" --backend-keep-alive-timeout=300s \
      --frontend-keep-alive-timeout=300s --no-via --no-add-x-forwarded-proto \
      --no-server-rewrite --errorlog-file="$tmp/nghttpx.err" >/dev/null 2>"$tmp/vg.log" &
  else
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$1" --config "$tmp/node.yaml" \
      >/dev/null 2>"$tmp/vg.log" &
  fi
  local p=$!; pids+=($p)
  local ready=http://127.0.0.1:$admin/ready
  [ "$1" = nghttpx ] && ready=http://127.0.0.1:$inbound/
  for _ in $(seq 300); do curl -sf -o /dev/null "$ready" && break; sleep 0.2; done
  local c=$(( $3 < 8 ? $3 : 8 )) flags
  flags="-c $c -m 10"; [[ $2 == h1 ]] && flags="--h1 -c $c"
  h2load -n "$3" $flags "http://127.0.0.1:$inbound/" | grep -q "succeeded, 0 failed"
  kill -TERM $p; wait $p 2>/dev/null || true
  if [ "$1" = nghttpx ]; then sleep 3; fi  # its worker writes its profile after the master exits
  awk '/^summary:/ {print $2}' "$tmp"/cg.out* | sort -n | tail -1
}

printf '%-5s %14s %14s %8s\n' proto baseline "this build" change
for proto in h1 h2; do
  per=()
  for binary in "$baseline" "$this"; do
    big=$(total_ir "$binary" "$proto" "$n")
    small=$(total_ir "$binary" "$proto" 8)
    per+=("$(awk -v b="$big" -v s="$small" -v n="$n" 'BEGIN {printf "%.0f", (b - s) / (n - 8)}')")
  done
  awk -v p="$proto" -v a="${per[0]}" -v b="${per[1]}" \
    'BEGIN {printf "%-5s %14s %14s %+7.1f%%\n", p, a, b, (b / a - 1) * 100}'
done
