#!/usr/bin/env bash
# The sidecar against haproxy and nginx (and nghttpx), side by side on loopback, through
# ../shared/bench/peers.sh: proxy pinned to one core, load generator and backend on the other.
# Not part of ctest. Usage: tools/bench/run.sh [peers.sh options], e.g. --rounds 3.
# HTTP/2 and gRPC are left out until the sidecar speaks them (see the README).
set -Eeuo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
peers=${PEERS_SH:-$root/../shared/bench/peers.sh}
[ -x "$peers" ] || { echo "run.sh: $peers not found (set PEERS_SH)" >&2; exit 2; }
[ -x "$root/build/tools/actormesh-sidecar" ] || "$root/tools/setup.sh" build
exec "$peers" --install-deps --peers direct,haproxy,nginx --tests h1,h1rate,fwd \
  --candidate "$root/tools/bench/candidate.sh" --candidate-port 18500 \
  --candidate-name actormesh --candidate-tests h1,h1rate,fwd "$@"
