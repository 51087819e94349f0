#!/usr/bin/env bash
# The sidecar against haproxy and nginx (and nghttpx), side by side on loopback, through
# ../shared/bench/peers.sh: proxy pinned to one core, load generator and backend on the other.
# Not part of ctest. Usage: tools/bench/run.sh [peers.sh options], e.g. --rounds 3.
# h2 and h2rate run 32 connections x 10 streams (issue 5's target); grpc is unary calls with
# 100-byte messages to an h2c backend. Then, in the same run, the mesh rows: two sidecars
# against two chained peers (tools/bench/mesh.sh --closed, as many rounds); MESH=0 skips them.
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS_SH:-$root/../shared/bench/peers.sh}
[ -x "$peers" ] || { echo "run.sh: $peers not found (set PEERS_SH)" >&2; exit 2; }
[ -x "$root/build/tools/actormesh-sidecar" ] || "$root/tools/setup.sh" build
tests=h1,h2,h1rate,h2rate,grpc,fwd
rounds=1
args=("$@")
for ((i = 0; i + 1 < ${#args[@]}; i++)); do
  [ "${args[i]}" = --rounds ] && rounds=${args[i + 1]}
done
"$peers" --install-deps --peers direct,haproxy,nginx,nghttpx --tests "$tests" \
  --h2-streams 10 --candidate "$root/tools/bench/candidate.sh" --candidate-port 18500 \
  --candidate-name actormesh --candidate-tests "$tests" "$@"
if [ "${MESH:-1}" != 0 ]; then
  echo
  "$root/tools/bench/mesh.sh" --rounds "$rounds" --closed
fi
