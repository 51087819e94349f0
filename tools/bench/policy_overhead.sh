#!/usr/bin/env bash
# CPU per request through the sidecar's outbound listener with no policy ("bare") and with a
# full policy set ("full": routes with a header match and a sticky 90/10 split, retries with
# a header rule, a retry budget, a breaker, outlier detection, limits, access rules), in the
# same run, alternating, ROUNDS times. Proxy pinned to CPU 1; wrk and the nginx backend on
# CPU 0. Prints CPU microseconds per request (the proxy's utime+stime / requests).
# Usage: tools/bench/policy_overhead.sh [ROUNDS] [SECONDS]
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
seconds=${2:-8}
binary=$root/build/tools/actormesh-sidecar
tmp=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
command -v wrk >/dev/null && command -v nginx >/dev/null || {
  echo "policy_overhead.sh: needs wrk and nginx (apt-get install wrk nginx)" >&2; exit 2; }
backend=18690 proxy=18691 admin=18692

cat > "$tmp/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $tmp/nginx.pid; error_log $tmp/nginx.err warn;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$backend;
  location / { return 200 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"; } } }
NGINX
taskset -c 0 nginx -c "$tmp/nginx.conf" & pids+=($!)

node() {  # node NAME POLICY
  cat <<YAML
name: bench-$1
roles: [sidecar, discovery, commander]
sidecar:
  service_name: client
  workers: 1
  outbound: {address: 127.0.0.1, port: $proxy}
  admin: {address: 127.0.0.1, port: $admin}
  access_log: {enabled: false}
services:
  127.0.0.1:
$2
    endpoints:
      - {address: 127.0.0.1, port: $backend, labels: {version: v1}}
      - {address: 127.0.0.1, port: $backend, weight: 1, labels: {version: v2}}
YAML
}
bare="    timeout: 5s"
full="    timeout: 5s
    connect_timeout: 1s
    retry: {attempts: 2, per_try_timeout: 1s, on: [connect_failure, gateway_error], headers: [{name: x-retry-hint, regex: \"^(busy|later)\$\"}]}
    retry_budget: {percent: 20}
    breaker: {consecutive_failures: 50, failure_percent: 50, min_requests: 100}
    limits: {max_requests: 10000, max_retries: 100}
    outlier: {consecutive_5xx: 50, failure_percentage: {threshold: 90}}
    access: {allow: [client]}
    routes:
      - name: admins
        match: {path: {prefix: /admin}, headers: [{name: x-admin, present: true}]}
        targets: [{subset: {version: v2}}]
      - name: canary
        match: {path: {regex: \"/.*\"}, methods: [GET]}
        targets: [{subset: {version: v1}, weight: 90}, {subset: {version: v2}, weight: 10}]
        hash: {header: x-user-id}
        request_headers: {set: {x-route: canary}}
        response_headers: {set: {x-served-by: mesh}}"
node bare "$bare" > "$tmp/bare.yaml"
node full "$full" > "$tmp/full.yaml"

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
modes=(bare full)
[[ -n "${BASELINE:-}" ]] && modes=(bare full base:bare base:full)
printf '%-6s %-9s %10s %12s\n' round mode "req/s" "CPU us/req"
declare -A sum
for r in $(seq 1 "$rounds"); do
  for mode in "${modes[@]}"; do
    exe=$binary
    [[ $mode == base:* ]] && exe=$BASELINE
    taskset -c 1 "$exe" --config "$tmp/${mode#base:}.yaml" >/dev/null 2>&1 & p=$!; pids+=($p)
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$admin/ready" >/dev/null && break; sleep 0.1; done
    TARGET=127.0.0.1:$backend timeout $((seconds + 10)) taskset -c 0 wrk -t1 -c32 -d2s \
      -s "$root/tools/bench/fwd.lua" "http://127.0.0.1:$proxy" >/dev/null
    before=$(cpu_ticks $p)
    out=$(TARGET=127.0.0.1:$backend timeout $((seconds + 10)) taskset -c 0 wrk -t1 -c32 \
      -d"${seconds}s" -s "$root/tools/bench/fwd.lua" "http://127.0.0.1:$proxy")
    after=$(cpu_ticks $p)
    kill "$p"; wait "$p" 2>/dev/null || true
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    rps=$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')
    hz=$(getconf CLK_TCK)
    us=$(awk -v t=$((after - before)) -v n="$reqs" -v hz="$hz" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}')
    sum[$mode]=$(awk -v a="${sum[$mode]:-0}" -v b="$us" 'BEGIN {print a + b}')
    printf '%-6s %-9s %10s %12s\n' "$r" "$mode" "$rps" "$us"
  done
done
mean() { awk -v s="${sum[$1]}" -v n="$rounds" 'BEGIN {print s / n}'; }
if [[ -n "${BASELINE:-}" ]]; then
  for m in bare full; do
    awk -v b="$(mean "base:$m")" -v n="$(mean "$m")" -v m="$m" \
      'BEGIN {printf "%s: baseline %.2f, this build %.2f CPU us/req (%+.1f%%)\n", m, b, n, (n / b - 1) * 100}'
  done
fi
b=$(awk -v s="${sum[bare]}" -v n="$rounds" 'BEGIN {print s / n}')
f=$(awk -v s="${sum[full]}" -v n="$rounds" 'BEGIN {print s / n}')
awk -v b="$b" -v f="$f" 'BEGIN {printf "mean CPU us/req: bare %.2f, full %.2f: full policy costs %+.1f%%\n", b, f, (f / b - 1) * 100}'
