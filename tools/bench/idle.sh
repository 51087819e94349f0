#!/usr/bin/env bash
# What an idle sidecar costs: CPU time, thread wake-ups and RSS of actormesh-sidecar with no
# traffic, one worker, and SERVICES services that each have a breaker, outlier detection and
# retries (their actors' timers are what an idle mesh of many services pays for). Each binary
# given (default: this checkout's) runs alone, for SECONDS after a 3 s settle.
#
# Usage: tools/bench/idle.sh [--services 50] [--seconds 20] [BINARY...]
# Not part of ctest. Binds 127.0.0.1 only; stops what it started, by PID.
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
SERVICES=50 SECONDS_IDLE=20 binaries=()
while [ $# -gt 0 ]; do
  case "$1" in
    --services) SERVICES=$2; shift 2;;
    --seconds) SECONDS_IDLE=$2; shift 2;;
    -h|--help) sed -n '2,/^set -Eeuo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) binaries+=("$1"); shift;;
  esac
done
[ ${#binaries[@]} -gt 0 ] || binaries=("$root/build/tools/actormesh-sidecar")
T=$(mktemp -d /tmp/actormesh-idle.XXXXXX)
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$T"' EXIT

{
  cat <<EOF
name: idle
roles: [sidecar, discovery, commander]
sidecar:
  service_name: idle
  workers: 1
  outbound: {address: 127.0.0.1, port: 19601}
  admin: {address: 127.0.0.1, port: 19602}
services:
EOF
  for i in $(seq "$SERVICES"); do
    cat <<EOF
  svc-$i:
    retry: {attempts: 2, on: [connect_failure]}
    breaker: {consecutive_failures: 5}
    outlier: {consecutive_5xx: 5}
    endpoints:
      - {address: 127.0.0.1, port: $((20000 + i))}
EOF
  done
} > "$T/idle.yaml"

wakeups() { { cat /proc/"$1"/task/*/status 2>/dev/null || true; } | awk '/^voluntary_ctxt_switches/ {n += $2} END {print n}'; }
run_ns() { { cat /proc/"$1"/task/*/schedstat 2>/dev/null || true; } | awk '{t += $1} END {printf "%.0f\n", t}'; }

# RSS counts the library and executable pages a sidecar maps: clean file pages, shared with
# every process of the node that maps the same files (and PSS divides them among those running
# now); anon is memory only this process can hold (heap, stacks, relocated data): what each more
# sidecar on a node costs.
printf '%-60s %14s %12s %8s %8s %8s\n' binary "CPU ms/min" "wakeups/s" "RSS MB" "PSS MB" \
  "anon MB"
for b in "${binaries[@]}"; do
  "$b" --config "$T/idle.yaml" > "$T/log" 2>&1 &
  pid=$!
  sleep 3
  kill -0 $pid 2>/dev/null || { echo "idle.sh: $b did not start:" >&2; cat "$T/log" >&2; exit 1; }
  w0=$(wakeups $pid) n0=$(run_ns $pid)
  sleep "$SECONDS_IDLE"
  w1=$(wakeups $pid) n1=$(run_ns $pid)
  rss=$(awk '/^VmRSS/ {printf "%.1f", $2 / 1024}' /proc/$pid/status)
  pss=$(awk '/^Pss:/ {printf "%.1f", $2 / 1024}' /proc/$pid/smaps_rollup)
  anon=$(awk '/^Anonymous:/ {printf "%.1f", $2 / 1024}' /proc/$pid/smaps_rollup)
  kill $pid; wait $pid 2>/dev/null || true; pid=""
  awk -v b="$b" -v n=$((n1 - n0)) -v w=$((w1 - w0)) -v s="$SECONDS_IDLE" -v r="$rss" \
    -v p="$pss" -v o="$anon" \
    'BEGIN {printf "%-60s %14.1f %12.1f %8s %8s %8s\n", b, n / 1e6 * 60 / s, w / s, r, p, o}'
done
echo "($SERVICES services with a breaker, outlier detection and retries; idle ${SECONDS_IDLE}s)"
