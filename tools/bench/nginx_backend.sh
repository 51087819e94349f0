# Sourced by the instruction-count benchmarks: start_nginx_backend DIR PORT starts a local
# nginx (one worker, no logs) that answers every request with 200 and a 40-byte body, and adds
# its PID to the caller's `pids` array.
start_nginx_backend() {
  cat > "$1/nginx.conf" <<NGINX
worker_processes 1; daemon off; pid $1/nginx.pid; error_log $1/nginx.err warn;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$2; location / { return 200 "0123456789012345678901234567890123456789"; } } }
NGINX
  nginx -c "$1/nginx.conf" & pids+=($!)
}
