#!/usr/bin/env bash
# Who shares the proxy's core at a fixed rate, and what the client's tail is meanwhile. The
# proxy (actormesh-sidecar as tools/bench/candidate.sh runs it, and nghttpx in the same run,
# rounds alternating) is pinned to CPU 1; the load generator (h2load at RATE req/s over 32
# connections, 10 streams each for h2) and the backend (nginx_backend.sh) to CPU 0. Per proxy
# thread, from the kernel's schedstat: run time, time spent runnable but waiting for the core,
# wake-ups (voluntary switches) and preemptions (involuntary) per second; then the core's time
# busy with anything else (other processes, kernel threads, interrupts), and p50/p99/p99.9 of
# every request the client timed.
#
# Usage: tools/bench/core_share.sh [--kind h1|h2] [--rate 10000] [--seconds 10] [--rounds 2]
#                                  [BINARY]
# Not part of ctest. Binds 127.0.0.1 only; stops what it started, by PID.
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
kind=h2 rate=10000 seconds=10 rounds=2 binary=$root/build/tools/actormesh-sidecar
while [ $# -gt 0 ]; do
  case "$1" in
    --kind) kind=$2; shift 2;;
    --rate) rate=$2; shift 2;;
    --seconds) seconds=$2; shift 2;;
    --rounds) rounds=$2; shift 2;;
    -h|--help) sed -n '2,/^set -Eeuo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0;;
    *) binary=$1; shift;;
  esac
done
for tool in nginx h2load nghttpx taskset; do
  command -v $tool >/dev/null || { echo "core_share.sh: needs $tool" >&2; exit 2; }
done
[ "$(nproc)" -ge 2 ] || { echo "core_share.sh: needs two CPUs" >&2; exit 2; }
tmp=$(mktemp -d /tmp/actormesh-core-share.XXXXXX) pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$tmp"; }
trap cleanup EXIT
backend=19190 listen=19191

# Everything this script starts inherits CPU 0, except the proxy, started on CPU 1.
taskset -pc 0 $$ >/dev/null
source "$root/tools/bench/nginx_backend.sh"
start_nginx_backend "$tmp" "$backend"

# start_proxy NAME: starts it on CPU 1 and sets `proxy` to the PID whose threads serve.
start_proxy() {
  if [ "$1" = nghttpx ]; then
    # As ../shared/bench/peers.sh runs it.
    taskset -c 1 nghttpx --conf=/dev/null -n1 --frontend="127.0.0.1,$listen;no-tls" \
      --backend="127.0.0.1,$backend;;proto=http/1.1" --backend-keep-alive-timeout=300s \
      --frontend-keep-alive-timeout=300s --no-via --no-add-x-forwarded-proto \
      --no-server-rewrite --errorlog-file="$tmp/nghttpx.err" >>"$tmp/proxy.log" 2>&1 &
    pids+=($!)
    sleep 1
    proxy=$(pgrep -P "${pids[-1]}" | head -1)  # the worker process, not the master
  else
    LISTEN_PORT=$listen BACKEND_HOST=127.0.0.1 BACKEND_PORT=$backend TMPDIR=$tmp \
      ACTORMESH_BINARY=$binary taskset -c 1 "$root/tools/bench/candidate.sh" \
      >>"$tmp/proxy.log" 2>&1 &
    pids+=($!)
    proxy=${pids[-1]}
  fi
  for _ in $(seq 50); do
    curl -s -o /dev/null "http://127.0.0.1:$listen/" && return; sleep 0.1
  done
  echo "core_share.sh: $1 did not answer" >&2; exit 1
}

# thread_times PID: "tid:name run_ns wait_ns voluntary involuntary" per thread.
thread_times() {
  for t in /proc/"$1"/task/*; do
    printf '%s:%s %s %s\n' "${t##*/}" "$(tr ' ' _ <"$t/comm")" "$(cut -d' ' -f1,2 "$t/schedstat")" \
      "$(awk '/^voluntary_ctxt/ {v = $2} /^nonvoluntary_ctxt/ {n = $2} END {print v, n}' \
        "$t/status")"
  done 2>/dev/null | sort
}
# cpu1_busy_ns: a clock minus CPU 1's idle time (kept exact by the tickless kernel; the busy
# columns of /proc/stat are sampled at the tick), in ns; only differences mean anything.
cpu1_busy_ns() {
  awk -v hz="$(getconf CLK_TCK)" -v now="$(date +%s%N)" \
    '$1 == "cpu1" {printf "%.0f\n", now - ($5 + $6) * 1e9 / hz}' /proc/stat
}

args=(-t1 -c32 --rps=$((rate / 32)) -m10)
[ "$kind" = h1 ] && args=(-t1 -c32 --rps=$((rate / 32)) --h1)
printf '%-9s %-5s %-24s %9s %9s %10s %12s\n' proxy round thread "run ms" "waited ms" "wakeups/s" \
  "preempted/s"
for round in $(seq "$rounds"); do
  order=(actormesh nghttpx); [ $((round % 2)) -eq 0 ] && order=(nghttpx actormesh)
  for name in "${order[@]}"; do
    start_proxy "$name"
    taskset -c 0 h2load "${args[@]}" -D2 "http://127.0.0.1:$listen/" >/dev/null  # warm-up
    thread_times "$proxy" >"$tmp/before"; busy0=$(cpu1_busy_ns); rm -f "$tmp/latency.log"
    taskset -c 0 h2load "${args[@]}" -D"$seconds" --log-file="$tmp/latency.log" \
      "http://127.0.0.1:$listen/" >"$tmp/h2load.out"
    grep -q ' 0 failed, 0 errored, 0 timeout' "$tmp/h2load.out" ||
      { cat "$tmp/h2load.out" >&2; echo "core_share.sh: requests failed through $name" >&2
        exit 1; }
    thread_times "$proxy" >"$tmp/after"; busy1=$(cpu1_busy_ns)
    join "$tmp/before" "$tmp/after" | awk -v p="$name" -v r="$round" -v s="$seconds" \
      -v busy=$((busy1 - busy0)) '
      { run = ($6 - $2) / 1e6; total += run
        if (run >= 0.05) printf "%-9s %-5s %-24s %9.1f %9.1f %10.1f %12.1f\n", p, r, $1, run,
          ($7 - $3) / 1e6, ($8 - $4) / s, ($9 - $5) / s }
      END { printf "%-9s %-5s %-24s %9.1f   (ms other tasks ran on core 1)\n", p, r,
            "others on core 1", busy / 1e6 - total }'
    awk -F'\t' '$2 != -1 {print $3}' "$tmp/latency.log" | sort -n |
      awk -v p="$name" -v r="$round" -v s="$seconds" '
      {a[NR] = $1}
      END {printf "%-9s %-5s client latency us: p50 %d  p99 %d  p99.9 %d  max %d  (%.0f req/s)\n",
           p, r, a[int(NR * .5)], a[int(NR * .99)], a[int(NR * .999)], a[NR], NR / s}'
    kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; unset 'pids[-1]'
  done
done
echo "($kind at $rate req/s for ${seconds}s; proxy on CPU 1, h2load and nginx on CPU 0)"
