#!/usr/bin/env bash
# The mesh path: a request crosses two proxies, as every call in a mesh does (the caller's
# outbound sidecar, then the callee's inbound one), against two chained instances of each
# peer (haproxy, nginx, nghttpx) in the same run, and the backend reached directly.
#
#   direct     h2load --h1 ──► nginx backend
#   actormesh  h2load ──► sidecar "web" outbound (service "api": its policies, its endpoint =
#              the other sidecar) ──► sidecar "api" inbound ──► backend
#   <peer>     h2load ──► peer A ──► peer B ──► backend (keep-alive at every hop)
#
# Both proxies of a pair share PROXY_CPU; the load generator and the backend share LOAD_CPU
# (as ../shared/bench/peers.sh). Each round runs every pair at RATE req/s (fixed rate, CONNS
# connections) and, with --closed, in a closed loop. Reported: medians over the rounds of
# p50/p99 and what the pair adds to direct's, and the pair's CPU time per 10,000 requests
# (from the kernel's per-thread run time, /proc/PID/task/*/schedstat: ns, not ticks).
#
# Usage: tools/bench/mesh.sh [--rounds 3] [--rate 1000] [--duration 10] [--conns 10] [--closed]
# Not part of ctest; needs nginx, haproxy, nghttpx, h2load (`--install-deps` installs them).
# Everything binds 127.0.0.1; processes started here are stopped by PID on exit.
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
ROUNDS=3 RATE=1000 DURATION=10 WARMUP=2 CONNS=10 CLOSED=0 PROXY_CPU=1 LOAD_CPU=0 BASE=19100
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift 2;;
    --rate) RATE=$2; shift 2;;
    --duration) DURATION=$2; shift 2;;
    --conns) CONNS=$2; shift 2;;
    --closed) CLOSED=1; shift;;
    --install-deps) apt-get install -y -qq --no-install-recommends nginx-light haproxy \
                      nghttp2-proxy nghttp2-client >&2; shift;;
    -h|--help) sed -n '2,/^set -Eeuo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) echo "mesh.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done
sidecar=${ACTORMESH_BINARY:-$root/build/tools/actormesh-sidecar}
[ -x "$sidecar" ] || "$root/tools/setup.sh" build
BE=$BASE PA=$((BASE + 1)) PB=$((BASE + 2))
T=$(mktemp -d /tmp/actormesh-mesh-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
log() { printf '[mesh %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }

nginx_conf() {  # NAME SERVER-BLOCK
  mkdir -p "$T/$1.tmp"
  cat > "$T/$1.conf" <<EOF
worker_processes 1; daemon off; pid $T/$1.pid; error_log $T/$1.err warn;
events { worker_connections 4096; }
http {
  access_log off; keepalive_requests 10000000; keepalive_timeout 300s;
  client_body_temp_path $T/$1.tmp/b; proxy_temp_path $T/$1.tmp/p; fastcgi_temp_path $T/$1.tmp/f;
  uwsgi_temp_path $T/$1.tmp/u; scgi_temp_path $T/$1.tmp/s;
  $2
}
EOF
}
start() {  # CPU CMD... ; appends the PID to pids and to `started`
  taskset -c "$1" "${@:2}" >>"$T/proxies.log" 2>&1 &
  pids+=($!) started+=($!)
}

body=$(head -c 99 /dev/zero | tr '\0' x)
nginx_conf backend "server { listen 127.0.0.1:$BE backlog=4096;
    location / { default_type text/plain; return 200 \"$body\n\"; } }"
start "$LOAD_CPU" nginx -p "$T" -c "$T/backend.conf"
wait_port "$BE" || { log "the backend did not start"; exit 1; }

start_haproxy() {  # NAME PORT UPSTREAM-PORT
  cat > "$T/$1.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  option http-no-delay
  timeout connect 5s
  timeout client 300s
  timeout server 300s
  timeout http-keep-alive 300s
frontend fe
  bind 127.0.0.1:$2
  default_backend be
backend be
  server s1 127.0.0.1:$3
EOF
  start "$PROXY_CPU" haproxy -db -f "$T/$1.cfg"
}
start_nginx() {  # NAME PORT UPSTREAM-PORT
  nginx_conf "$1" "upstream up { server 127.0.0.1:$3; keepalive 64; keepalive_requests 10000000;
    keepalive_timeout 300s; }
  server { listen 127.0.0.1:$2 backlog=4096; location / { proxy_pass http://up;
    proxy_http_version 1.1; proxy_set_header Connection \"\"; } }"
  start "$PROXY_CPU" nginx -p "$T" -c "$T/$1.conf"
}
start_nghttpx() {  # NAME PORT UPSTREAM-PORT
  start "$PROXY_CPU" nghttpx --conf=/dev/null -n1 -f"127.0.0.1,$2;no-tls" -b"127.0.0.1,$3;;proto=http/1.1" \
    --backend-keep-alive-timeout=300s --frontend-keep-alive-timeout=300s --no-via \
    --no-add-x-forwarded-proto --no-server-rewrite --errorlog-file="$T/$1.err"
}
# The two sidecars as a mesh runs them (the access log off and no generated request ids, as
# tools/bench/candidate.sh, since the peers log nothing): "web" calls the mesh service "api"
# through its outbound listener, with api's policies (timeout, retries, outlier detection);
# api's endpoint is the other sidecar's inbound listener, in front of the backend.
start_actormesh() {
  cat > "$T/web.yaml" <<EOF
name: web
roles: [sidecar, discovery, commander]
sidecar:
  service_name: web
  workers: 1
  outbound: {address: 127.0.0.1, port: $PA}
  admin: {address: 127.0.0.1, port: $((PA + 1000))}
  access_log: {enabled: false}
  generate_request_id: false
services:
  api:
    timeout: 5s
    retry: {attempts: 2, on: [connect_failure, reset]}
    outlier: {consecutive_5xx: 5}
    endpoints:
      - {address: 127.0.0.1, port: $PB}
EOF
  # api's sidecar is the peers benchmark's candidate: inbound, in front of the backend.
  start "$PROXY_CPU" env LISTEN_PORT=$PB BACKEND_HOST=127.0.0.1 BACKEND_PORT=$BE \
    ACTORMESH_BINARY="$sidecar" "$root/tools/bench/candidate.sh"
  start "$PROXY_CPU" "$sidecar" --config "$T/web.yaml"
  for p in $((PA + 1000)) $((PB + 1000)); do  # ready: routes with its first snapshot
    for _ in $(seq 100); do
      curl -sf -o /dev/null "http://127.0.0.1:$p/ready" && break
      sleep 0.1
    done
  done
}

# The processes and their descendants (nginx and nghttpx serve from worker processes).
tree() { local p; for p in "$@"; do echo "$p"; tree $(pgrep -P "$p" || true); done; }
# Run time (ns) of every thread of the given processes.
run_ns() { cat $(for p in "$@"; do echo /proc/$p/task/*/schedstat; done) 2>/dev/null | awk '{t += $1} END {printf "%.0f\n", t}'; }
hwm_mb() { for p in "$@"; do awk '/^VmHWM:/ {print $2}' /proc/$p/status; done | awk '{t += $1} END {printf "%.1f", t / 1024}'; }

load() {  # PORT SECONDS RATE(0: closed loop) [LOG]
  local args=(--h1 -t1 -c"$CONNS" -m1 -D"$2" -H ":authority: api")
  [ "$3" -gt 0 ] && args+=(--rps=$(($3 / CONNS)))
  [ -n "${4:-}" ] && args+=(--log-file="$4")
  timeout -k 5 $(($2 + 30)) taskset -c "$LOAD_CPU" h2load "${args[@]}" "http://127.0.0.1:$1/"
}

RAW="$T/raw.tsv"
measure() {  # ROUND PAIR MODE(rate|closed)
  local port=$PA rate=$RATE lf="$T/requests.tsv" out n0 n1 reqs failed p50 p99 cpu rss
  [ "$2" = direct ] && port=$BE
  [ "$3" = closed ] && rate=0
  local code
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'host: api' "http://127.0.0.1:$port/" || true)
  [ "$code" = 200 ] || { log "$2: a probe got '$code'"; return 1; }
  load "$port" "$WARMUP" "$rate" >/dev/null
  local watched
  if [ "$2" = direct ]; then watched=($(tree "${pids[0]}")); else watched=($(tree "${started[@]}")); fi
  for p in "${watched[@]}"; do echo 5 > /proc/$p/clear_refs; done
  n0=$(run_ns "${watched[@]}")
  out=$(load "$port" "$DURATION" "$rate" "$lf")
  n1=$(run_ns "${watched[@]}")
  rss=$(hwm_mb "${watched[@]}")
  reqs=$(awk '/^requests:/ {print $8}' <<<"$out")
  failed=$(awk '/^requests:/ {f = $10 + $12} /^status codes:/ {f += $5 + $7 + $9} END {print f}' <<<"$out")
  read -r p50 p99 < <(awk -F'\t' '$2 == 200 {print $3}' "$lf" | sort -n |
    awk '{a[NR] = $1} END {i = int(NR * 0.5 + 0.999); j = int(NR * 0.99 + 0.999); print a[i], a[j]}')
  cpu=$(awk -v n=$((n1 - n0)) -v r="$reqs" 'BEGIN {printf "%.1f", n / 1e6 / (r / 10000)}')
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$reqs" "$failed" "$p50" "$p99" "$cpu" "$rss" >> "$RAW"
  log "  $2 $3: $reqs requests, $failed failed, p50 ${p50}us p99 ${p99}us, CPU ${cpu} ms/10k, RSS ${rss} MB"
  rm -f "$lf"
}

pairs=(direct actormesh haproxy nginx nghttpx)
modes=(rate)
[ $CLOSED = 1 ] && modes+=(closed)
for round in $(seq "$ROUNDS"); do
  log "round $round of $ROUNDS"
  order=("${pairs[@]}")
  [ $((round % 2)) = 0 ] && order=(direct nghttpx nginx haproxy actormesh)
  for pair in "${order[@]}"; do
    started=()
    case $pair in
      direct) ;;
      actormesh) start_actormesh;;
      *) "start_$pair" "$pair-b" "$PB" "$BE"; "start_$pair" "$pair-a" "$PA" "$PB"
         wait_port "$PA"; wait_port "$PB";;
    esac
    for mode in "${modes[@]}"; do measure "$round" "$pair" "$mode"; done
    for p in "${started[@]}"; do kill "$p"; wait "$p" 2>/dev/null || true; done
    sleep 0.5
  done
done

# Medians over the rounds; "added" is the pair's median minus direct's.
awk -F'\t' '
  function med(list,   n, v, i, j, t) {
    n = split(list, v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  }
  { k = $2 SUBSEP $3; seen[k] = 1; P50[k] = P50[k] " " $6; P99[k] = P99[k] " " $7
    CPU[k] = CPU[k] " " $8; RSS[k] = RSS[k] " " $9; FAIL[k] += $5; REQ[k] += $4 }
  END {
    printf "%-10s %-6s %9s %8s %8s %10s %10s %11s %8s %7s\n", "pair", "mode", "requests", "p50_ms", "p99_ms",
      "+p50_ms", "+p99_ms", "CPUms/10k", "RSS_MB", "failed"
    nm = split("rate closed", modes, " "); np = split("direct actormesh haproxy nginx nghttpx", pairs, " ")
    for (m = 1; m <= nm; m++) for (q = 1; q <= np; q++) {
      k = pairs[q] SUBSEP modes[m]; d = "direct" SUBSEP modes[m]
      if (!(k in seen)) continue
      printf "%-10s %-6s %9d %8.3f %8.3f %10s %10s %11.1f %8.1f %7d\n", pairs[q], modes[m], REQ[k],
        med(P50[k]) / 1000, med(P99[k]) / 1000,
        q == 1 ? "-" : sprintf("%.3f", (med(P50[k]) - med(P50[d])) / 1000),
        q == 1 ? "-" : sprintf("%.3f", (med(P99[k]) - med(P99[d])) / 1000),
        med(CPU[k]), med(RSS[k]), FAIL[k]
    }
  }' "$RAW"
echo "(medians of $ROUNDS rounds; $RATE req/s over $CONNS connections for ${DURATION}s in mode rate;" \
  "CPU and RSS: both proxies of the pair, direct: the backend)"
