#!/usr/bin/env bash
# Transparent mode against explicit mode, in one network namespace made for the run: CPU per
# request of the same sidecar process (one config with both listeners) serving wrk through
# the explicit listener (Host: web) and through iptables interception (the virtual IP), in
# alternating rounds; then how long a server-first protocol's client waits for its banner:
# with detection (detect_timeout 50ms), on a declared opaque port, and direct.
# Proxy pinned to CPU 1; wrk, nginx and the banner server on CPU 0. wrk and the banner client
# run as uid 65534 (root owns the sidecar, whose connections init leaves alone).
# Usage: tools/bench/transparent.sh [ROUNDS] [SECONDS]   (as root; needs wrk, nginx, iptables)
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
rounds=${1:-3}
seconds=${2:-8}
binary=$root/build/tools/actormesh-sidecar
ns=ambench$$
tmp=$(mktemp -d)
chmod 755 "$tmp"
cleanup() {
  # `ip netns exec` may fork: what runs in the namespace is killed by the namespace's list.
  for p in $(ip netns pids "$ns" 2>/dev/null); do kill "$p" 2>/dev/null || true; done
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
for tool in wrk nginx iptables-save; do
  command -v $tool >/dev/null || { echo "transparent.sh: needs $tool" >&2; exit 2; }
done
in_ns() { ip netns exec "$ns" "$@"; }
as_app() { in_ns setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
backend=18690 proxy=15001 admin=15000 banner=2525

ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add am0 type veth peer name am1
ip -n "$ns" addr add 10.200.0.1/24 dev am0
ip -n "$ns" link set am0 up
ip -n "$ns" link set am1 up
ip -n "$ns" route add 10.96.0.0/16 dev am0

cat > "$tmp/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $tmp/nginx.pid; error_log $tmp/nginx.err warn;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$backend;
  location / { return 200 "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"; } } }
NGINX
(in_ns taskset -c 0 nginx -c "$tmp/nginx.conf" &)  # not jobs of this shell: killed quietly
cat > "$tmp/banner.py" <<'PY'
import asyncio, sys
async def greet(reader, writer):
    writer.write(b"220 ready\r\n")
    await writer.drain()
    await reader.read(100)
    writer.close()
async def main():
    server = await asyncio.start_server(greet, "127.0.0.1", int(sys.argv[1]))
    await server.serve_forever()
asyncio.run(main())
PY
(in_ns taskset -c 0 python3 "$tmp/banner.py" $banner &)

cat > "$tmp/node.yaml" <<YAML
name: bench-transparent
roles: [sidecar, discovery, commander]
sidecar:
  service_name: client
  workers: 1
  outbound: {address: 127.0.0.1, port: $proxy}
  admin: {address: 127.0.0.1, port: $admin}
  transparent: {port: 15002, detect_timeout: 50ms, opaque_ports: [26]}
  access_log: {enabled: false}
services:
  web:
    addresses: [10.96.0.10]
    ports: [80]
    endpoints: [{address: 127.0.0.1, port: $backend}]
  smtp:
    addresses: [10.96.0.30]
    endpoints: [{address: 127.0.0.1, port: $banner}]
  smtp-declared:
    addresses: [10.96.0.31]
    endpoints: [{address: 127.0.0.1, port: $banner}]
YAML
(in_ns taskset -c 1 "$binary" --config "$tmp/node.yaml" >/dev/null 2>&1 &)
for _ in $(seq 50); do in_ns curl -sf "http://127.0.0.1:$admin/ready" >/dev/null && break; sleep 0.1; done
in_ns "$binary" init --proxy-uid 0 >/dev/null 2>&1
pid=$(pgrep -f -n "$tmp/node.yaml")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run_wrk() {  # run_wrk MODE DURATION
  if [[ $1 == explicit ]]; then
    as_app taskset -c 0 wrk -t1 -c32 -d"$2" -H "Host: web" "http://127.0.0.1:$proxy/"
  else
    as_app taskset -c 0 wrk -t1 -c32 -d"$2" "http://10.96.0.10/"
  fi
}
printf '%-6s %-12s %10s %12s\n' round mode "req/s" "CPU us/req"
declare -A samples
hz=$(getconf CLK_TCK)
for r in $(seq 1 "$rounds"); do
  for mode in explicit transparent; do
    run_wrk $mode 2s >/dev/null
    before=$(cpu_ticks "$pid")
    out=$(run_wrk $mode "${seconds}s")
    after=$(cpu_ticks "$pid")
    reqs=$(echo "$out" | awk '/requests in/ {print $1}')
    errors=$(echo "$out" | awk '/Non-2xx|Socket errors/ {print}')
    [[ -z $errors ]] || { echo "transparent.sh: $mode: $errors" >&2; exit 1; }
    rps=$(echo "$out" | awk '/Requests\/sec/ {print int($2)}')
    us=$(awk -v t=$((after - before)) -v n="$reqs" -v hz="$hz" 'BEGIN {printf "%.2f", t * 1e6 / hz / n}')
    samples[$mode]+="$us "
    printf '%-6s %-12s %10s %12s\n' "$r" "$mode" "$rps" "$us"
  done
done
median() { tr ' ' '\n' <<<"$1" | grep . | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
e=$(median "${samples[explicit]}")
t=$(median "${samples[transparent]}")
awk -v e="$e" -v t="$t" 'BEGIN {printf "median CPU us/req: explicit %.2f, transparent %.2f: transparent costs %+.1f%%\n", e, t, (t / e - 1) * 100}'

cat > "$tmp/banner_client.py" <<'PY'
import socket, statistics, sys, time
def wait(address, port):
    start = time.monotonic()
    with socket.create_connection((address, port), timeout=5) as s:
        assert s.recv(100) == b"220 ready\r\n"
        waited = time.monotonic() - start
        s.sendall(b"QUIT\r\n")
    return waited * 1000
cases = [("detected (50ms)", "10.96.0.30", 25), ("opaque port", "10.96.0.31", 26),
         ("direct", "127.0.0.1", int(sys.argv[1]))]
for name, address, port in cases:
    samples = sorted(wait(address, port) for _ in range(60))
    print("banner %-16s median %7.2f ms  p95 %7.2f ms" % (name, statistics.median(samples),
                                                           samples[int(len(samples) * 0.95)]))
PY
as_app taskset -c 0 python3 "$tmp/banner_client.py" $banner
