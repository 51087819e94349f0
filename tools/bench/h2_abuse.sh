#!/usr/bin/env bash
# A well-behaved client's latency through the sidecar while each HTTP/2 attack of
# tests/integration/test_h2_abuse.py is played against the same sidecar (one worker, pinned
# alone to CPU 1): h2load --h1 at a fixed rate (4 connections x 250 req/s) to the inbound
# listener for 4 s, the attack (a separate process at the lowest priority, on CPU 0 with the
# client and nginx) starting 1 s in against the outbound listener's service `target`. Prints
# p50/p99 of the requests made during the attack against a run with no attack, and the
# sidecar's RSS. ROUNDS rounds; the table gives the median. Usage: h2_abuse.sh [ROUNDS]
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
binary=$root/build/tools/actormesh-sidecar
attacks=(none rapid_reset continuation_flood settings_flood ping_flood empty_data_flood
  window_update_overflow stream_id_misuse big_header_list hpack_bomb)
command -v h2load >/dev/null && command -v nginx >/dev/null || {
  echo "h2_abuse.sh: needs h2load (nghttp2-client) and nginx" >&2; exit 2; }
tmp=$(mktemp -d); pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
backend=18890 outbound=18891 inbound=18892 admin=18893
cat > "$tmp/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $tmp/nginx.pid; error_log $tmp/nginx.err warn;
events { worker_connections 4096; }
http { access_log off; server { listen 127.0.0.1:$backend; location / { return 200 "ok"; } } }
NGINX
taskset -c 0 nginx -c "$tmp/nginx.conf" & pids+=($!)
cat > "$tmp/node.yaml" <<YAML
name: abuse
roles: [sidecar, discovery, commander]
sidecar:
  service_name: bench
  workers: 1
  outbound: {address: 127.0.0.1, port: $outbound}
  inbound: {address: 127.0.0.1, port: $inbound, app_address: 127.0.0.1, app_port: $backend}
  admin: {address: 127.0.0.1, port: $admin}
  access_log: {enabled: false}
services:
  target:
    endpoints: [{address: 127.0.0.1, port: $backend}]
YAML
taskset -c 1 "$binary" --config "$tmp/node.yaml" >/dev/null 2>"$tmp/sidecar.err" & sidecar=$!
pids+=($sidecar)
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$admin/ready" >/dev/null && break; sleep 0.1; done

# one ATTACK: "p50 p99" (ms) of the client's requests that started while the attack ran.
one() {
  local log=$tmp/client.log start
  rm -f "$log"
  taskset -c 0 h2load --h1 -c 4 --rps 250 -D 4 --log-file="$log" \
    "http://127.0.0.1:$inbound/" >/dev/null & local client=$!
  if [[ $1 == none ]]; then
    sleep 1
    start=$(date +%s%6N)
    sleep 0.3
  else
    # The attacker starts (Python's start-up outside the window), says "ready", waits for "go".
    coproc attacker { taskset -c 0 nice -n 19 /usr/bin/python3 \
      "$root/tests/integration/test_h2_abuse.py" attack "$1" "$outbound"; }
    local ready out=${attacker[0]} in=${attacker[1]}
    read -r ready <&"$out"
    sleep 1
    start=$(date +%s%6N)
    echo go >&"$in"
    cat <&"$out" >/dev/null
    wait "${attacker_PID:-}" 2>/dev/null || true
  fi
  local end=$(date +%s%6N)
  wait $client
  awk -F'\t' -v s="$start" -v e="$end" '$1 >= s && $1 <= e {
      if ($2 != 200) bad++; print $3 / 1000 } END { if (bad) print "FAILED", bad > "/dev/stderr" }' \
    "$log" | sort -n | awk '{v[NR] = $1} END {
      if (NR == 0) {print "- -"; exit}
      i50 = int(NR * 0.50); i99 = int(NR * 0.99); if (i50 < 1) i50 = 1; if (i99 < 1) i99 = 1
      printf "%.2f %.2f %d\n", v[i50], v[i99], NR }'
}

declare -A p50s p99s
for r in $(seq "$rounds"); do
  for a in "${attacks[@]}"; do
    read -r p50 p99 n < <(one "$a")
    p50s[$a]+="$p50 "; p99s[$a]+="$p99 "
    echo "round $r $a: p50 $p50 ms, p99 $p99 ms ($n requests)" >&2
  done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
rss=$(awk '/VmRSS/ {print $2 / 1024}' "/proc/$sidecar/status")
base=$(median "${p99s[none]}")
printf '| attack | p50 ms | p99 ms | p99 / no attack |\n|---|---|---|---|\n'
for a in "${attacks[@]}"; do
  p99=$(median "${p99s[$a]}")
  printf '| %s | %s | %s | %s |\n' "$a" "$(median "${p50s[$a]}")" "$p99" \
    "$(awk -v a="$p99" -v b="$base" 'BEGIN {printf "%.2f", a / b}')"
done
echo "sidecar RSS after all rounds: ${rss} MB; protections: $(curl -s "http://127.0.0.1:$admin/metrics" | awk '/^actormesh_protection_events_total/ && $2 > 0 {printf "%s ", $0}')"
