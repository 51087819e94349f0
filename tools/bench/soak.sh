#!/usr/bin/env bash
# Soak: a control plane and a lean sidecar (actormesh-sidecar, 2 workers) under mixed load for
# MINUTES, with live config edits and endpoint churn the whole time:
#   HTTP/1.1  h2load --h1, 16 connections, H1_RPS req/s in all       → api (HTTP/1.1 upstreams)
#   h2c       h2load, 4 connections × 8 streams, H2_RPS req/s in all  → api
#   gRPC      the grpc++ test client through the sidecar (http_proxy), unary calls one after
#             another on one channel, round after round                 → grpc (grpc++ servers)
#   churn     every 2 s the endpoints file swaps one of api's two endpoints (of three) and
#             one of grpc's two servers; every 5 s meshctl applies the next of two policies
#             (api's timeout and retry policy), so new snapshots reach the workers all along.
# Upstreams stay up (discovery removes them, nothing kills them): no request may fail.
# Fails (exit 1) on any failed request, or when the sidecar's RSS or open descriptors grow
# after warm-up (the first fifth, at least 30 s): the median of the last third of the samples
# against the median of the first third after warm-up, by more than 5% (both are printed:
# descriptors move a few percent either way as endpoints come and go with their pools).
# Writes its samples (seconds, RSS kB, descriptors) to OUT/soak.tsv and, with gnuplot
# installed, OUT/soak.png.
#   tools/bench/soak.sh MINUTES [OUT_DIR]       (rates: H1_RPS=12000 H2_RPS=12000 by default,
#                                                about half of the 2-worker sidecar's capacity
#                                                here with load and upstreams sharing the cores)
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
minutes=${1:?usage: tools/bench/soak.sh MINUTES [OUT_DIR]}
out=${2:-$(mktemp -d /tmp/actormesh-soak.XXXXXX)}
build=${BUILD:-$root/build}
h1_rps=${H1_RPS:-12000}
h2_rps=${H2_RPS:-12000}
seconds=$((minutes * 60))
mkdir -p "$out"
work=$(mktemp -d /tmp/actormesh-soak-work.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {  # PORT: up within 15 s
  for _ in $(seq 150); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "soak: nothing listens on $1" >&2
  return 1
}

# -- upstreams: actormesh's built-in demo upstreams (HTTP/1.1, three on consecutive ports) and
#    two grpc++ echo servers.
base=$(free_port)
demo_outbound=$(free_port) demo_admin=$(free_port)
"$build/tools/actormesh" demo --upstream-port-base "$base" --outbound-port "$demo_outbound" \
  --admin-port "$demo_admin" --access-log /dev/null >"$work/demo.log" 2>&1 &
pids+=($!)
h1_ports=("$base" $((base + 1)) $((base + 2)))
for p in "${h1_ports[@]}"; do wait_port "$p"; done
grpc_ports=()
for name in g1 g2; do
  port=$(free_port)
  "$build/tests/echo_server" "$name" "$port" >"$work/$name.log" 2>&1 &
  pids+=($!)
  wait_port "$port"
  grpc_ports+=("$port")
done

# -- the control plane (discovery from a file, commander with its API) and the sidecar.
endpoints=$work/endpoints.yaml
write_endpoints() {  # ROUND: which api endpoint and which grpc server are out this round
  local round=$1 tmp=$work/endpoints.tmp
  {
    echo "services:"
    echo "  api:"
    echo "    endpoints:"
    for i in 0 1 2; do
      [ "$i" -eq $((round % 3)) ] && continue
      echo "      - {address: 127.0.0.1, port: ${h1_ports[$i]}}"
    done
    echo "  grpc:"
    echo "    endpoints:"
    echo "      - {address: 127.0.0.1, port: ${grpc_ports[$((round % 2))]}}"
  } >"$tmp"
  mv "$tmp" "$endpoints"
}
write_endpoints 0
control=$(free_port) api=$(free_port) cp_admin=$(free_port)
cat >"$work/cp.yaml" <<EOF
name: soak-cp
roles: [discovery, commander]
sidecar:
  admin: {address: 127.0.0.1, port: $cp_admin}
control:
  listen: {address: 127.0.0.1, port: $control}
  api: {address: 127.0.0.1, port: $api}
discovery: {endpoints_file: $endpoints}
commander: {audit_log: $work/audit.log}
services:
  api: {timeout: 5s}
  grpc: {timeout: 5s}
EOF
"$build/tools/actormesh" --config "$work/cp.yaml" >"$work/cp.log" 2>&1 &
pids+=($!)
wait_port "$api"
outbound=$(free_port) admin=$(free_port)
cat >"$work/sidecar.yaml" <<EOF
name: soak-sidecar
roles: [sidecar]
control_plane: {address: 127.0.0.1, port: $control}
sidecar:
  workers: 2
  outbound: {address: 127.0.0.1, port: $outbound}
  admin: {address: 127.0.0.1, port: $admin}
  access_log: {enabled: false}
EOF
"${SIDECAR:-$build/tools/actormesh-sidecar}" --config "$work/sidecar.yaml" >"$work/sidecar.log" 2>&1 &
sidecar=$!
pids+=($sidecar)
for _ in $(seq 150); do
  curl -sf "http://127.0.0.1:$admin/ready" >/dev/null && break
  sleep 0.1
done
curl -sf "http://127.0.0.1:$admin/ready" >/dev/null || { cat "$work/sidecar.log" >&2; exit 1; }

# -- the load, each bounded by time.
h2load --h1 -c 16 --rps $((h1_rps / 16)) -D "$seconds" -H ':authority: api' \
  "http://127.0.0.1:$outbound/soak" >"$work/h1.out" 2>&1 &
h1_load=$!
h2load -c 4 -m 8 --rps $((h2_rps / 4)) -D "$seconds" -H ':authority: api' \
  "http://127.0.0.1:$outbound/soak" >"$work/h2.out" 2>&1 &
h2_load=$!
(
  end=$((SECONDS + seconds))
  while [ $SECONDS -lt $end ]; do
    http_proxy="http://127.0.0.1:$outbound" timeout 120 "$build/tests/echo_client" grpc:50051 \
      sequential 2000 || echo '{"failures": -1}'
  done
) >"$work/grpc.out" 2>&1 &
grpc_load=$!
pids+=($h1_load $h2_load $grpc_load)

# -- churn and samples until the load ends.
policy=$work/policy.yaml
start=$SECONDS round=0 edits=0
: >"$out/soak.tsv"
while kill -0 "$h1_load" 2>/dev/null || kill -0 "$h2_load" 2>/dev/null; do
  sleep 1
  t=$((SECONDS - start))
  if ((t % 2 == 0)); then
    round=$((round + 1))
    write_endpoints "$round"
  fi
  if ((t % 5 == 0)); then
    if ((edits % 2 == 0)); then
      printf 'services:\n  api: {timeout: 4s, retry: {attempts: 2, on: [connect_failure]}}\n  grpc: {timeout: 5s}\n' >"$policy"
    else
      printf 'services:\n  api: {timeout: 5s}\n  grpc: {timeout: 5s}\n' >"$policy"
    fi
    "$build/tools/meshctl/meshctl" --server "127.0.0.1:$api" apply -f "$policy" \
      --caller soak >/dev/null || { echo "soak: meshctl apply failed" >&2; exit 1; }
    edits=$((edits + 1))
  fi
  if ((t % 5 == 0)); then
    rss=$(awk '/^VmRSS/ {print $2}' "/proc/$sidecar/status")
    fds=$(ls "/proc/$sidecar/fd" | wc -l)
    printf '%d\t%d\t%d\n' "$t" "$rss" "$fds" >>"$out/soak.tsv"
  fi
  if ((t > seconds + 60)); then
    echo "soak: the load did not end in time" >&2
    exit 1
  fi
done
wait "$grpc_load" || true
kill -0 "$sidecar" || { echo "soak: the sidecar died" >&2; tail -20 "$work/sidecar.log" >&2; exit 1; }

# -- the verdict.
failed=0
for kind in h1 h2; do
  summary=$(grep -E '^(requests|status codes):' "$work/$kind.out" | tr '\n' ' ')
  read -r total done_ ok bad errored timeouts codes2xx < <(awk '
    /^requests:/ {t=$2; d=$6; s=$8; f=$10; e=$12; o=$14}
    /^status codes:/ {c=$3}
    END {print t+0, d+0, s+0, f+0, e+0, o+0, c+0}' "$work/$kind.out")
  echo "soak: $kind: $summary"
  if ((total == 0 || bad + errored + timeouts > 0 || codes2xx != ok)); then failed=1; fi
done
grpc_calls=$(grep -o '"replies": [0-9]*' "$work/grpc.out" | awk '{s+=$2} END {print s+0}')
grpc_failures=$(grep -o '"failures": -\?[0-9]*' "$work/grpc.out" | awk '{if ($2 != 0) s++} END {print s+0}')
echo "soak: grpc: $grpc_calls calls, $grpc_failures rounds with failures"
if ((grpc_calls == 0 || grpc_failures > 0)); then failed=1; fi
echo "soak: $round endpoint changes, $edits config versions applied"

verdict=$(awk -v warm=$((seconds / 5 > 30 ? seconds / 5 : 30)) '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  $1 >= warm { n++; rss[n] = $2; fds[n] = $3 }
  END {
    if (n < 6) { print "too few samples after warm-up: " n; exit }
    k = int(n / 3)
    for (i = 1; i <= k; i++) { r1[i] = rss[i]; f1[i] = fds[i]; r2[i] = rss[n - k + i]; f2[i] = fds[n - k + i] }
    mr1 = median(r1, k); mr2 = median(r2, k); mf1 = median(f1, k); mf2 = median(f2, k)
    printf "RSS %d -> %d kB (%+.1f%%), descriptors %d -> %d (%+.1f%%)", mr1, mr2,
      100 * (mr2 - mr1) / mr1, mf1, mf2, 100 * (mf2 - mf1) / mf1
    if (mr2 > mr1 * 1.05 || mf2 > mf1 * 1.05) print " GREW BEYOND 5%"
  }' "$out/soak.tsv")
echo "soak: after warm-up: $verdict"
[[ $verdict == RSS* && $verdict != *"GREW BEYOND"* ]] || failed=1

if command -v gnuplot >/dev/null; then
  gnuplot <<PLOT
set terminal pngcairo size 900,420 noenhanced
set output "$out/soak.png"
set title "actormesh-sidecar under mixed load with churn, $minutes min"
set xlabel "second"
set ylabel "RSS (MB)"
set y2label "open descriptors"
set ytics nomirror
set y2tics
set yrange [0:*]
set y2range [0:*]
set key bottom right
plot "$out/soak.tsv" using 1:(\$2/1024) with lines lw 2 title "RSS (MB)", \
     "$out/soak.tsv" using 1:3 axes x1y2 with lines lw 2 title "descriptors"
PLOT
  echo "soak: plot in $out/soak.png"
fi
echo "soak: samples in $out/soak.tsv"
if ((failed)); then
  echo "soak: FAILED" >&2
  exit 1
fi
echo "soak: passed"
