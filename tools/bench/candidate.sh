#!/usr/bin/env bash
# Runs actormesh as the candidate proxy of ../shared/bench/peers.sh: one worker, the access
# log off and no generated request ids (the peers log nothing and add no id; ids clients send
# still pass), listening on LISTEN_PORT and sending everything to
# BACKEND_HOST:BACKEND_PORT. reverse mode uses the inbound listener (the backend is the local
# app); forward mode uses the outbound explicit-proxy listener (absolute-form requests to the
# backend's address pass through).
set -Eeuo pipefail
: "${LISTEN_PORT:?}" "${BACKEND_HOST:?}" "${BACKEND_PORT:?}"
binary=${ACTORMESH_BINARY:-$(cd "$(dirname "$0")/../.." && pwd)/build/tools/actormesh-sidecar}
config=${TMPDIR:-/tmp}/actormesh-bench-$LISTEN_PORT.yaml  # rewritten on every start
admin_port=$((LISTEN_PORT + 1000))
if [ "${PROXY_MODE:-reverse}" = forward ]; then
  listeners="outbound: {address: 127.0.0.1, port: $LISTEN_PORT}"
else
  listeners="outbound: {address: 127.0.0.1, port: 0}
  inbound: {address: 127.0.0.1, port: $LISTEN_PORT, app_address: $BACKEND_HOST, app_port: $BACKEND_PORT}"
fi
cat > "$config" <<YAML
name: bench
roles: [sidecar, discovery, commander]
sidecar:
  service_name: backend
  workers: 1
  $listeners
  admin: {address: 127.0.0.1, port: $admin_port}
  access_log: {enabled: false}
  generate_request_id: false
YAML
exec "$binary" --config "$config"
